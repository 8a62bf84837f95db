// Sign-in: a token (typed, or from a one-time link /signin#token=… whose fragment never reaches the
// server's logs) is exchanged for the HttpOnly session cookie; then on to `next` (same-site paths only).
import { useEffect, useState } from "preact/hooks";
import { api, safeNext } from "../api";
import { ErrorBox } from "../ui";

export function SignIn() {
  const [token, setToken] = useState("");
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const next = safeNext(new URLSearchParams(location.search).get("next"));

  const submit = async (value: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await api("POST", "/session", { token: value.trim() });
      location.replace(next);
    } catch (e) {
      setError(e as Error);
      setBusy(false);
    }
  };

  useEffect(() => {
    const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromLink) {
      // Out of the address bar and history at once.
      history.replaceState(null, "", location.pathname + location.search);
      void submit(fromLink);
    }
  }, []);

  return (
    <main class="signin">
      <h1>Slipway</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit(token);
        }}
      >
        <label>
          Token
          <input type="password" name="token" autocomplete="off" placeholder="swt_…" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} data-testid="token" />
        </label>
        <button type="submit" disabled={busy || !token.trim()} data-testid="sign-in">
          Sign in
        </button>
        {error && <ErrorBox error={error} />}
        <p class="muted">Use a token from <code>slipway tokens create</code>, or the sign-in link <code>slipway server</code> printed. The session lasts 12 hours.</p>
      </form>
    </main>
  );
}
