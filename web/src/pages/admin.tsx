// Tokens (everyone: their own), the audit log, users and groups (administrators; the server refuses
// everyone else anyway). A new token is shown once, here, and never again.
import { useState } from "preact/hooks";
import { api, qs } from "../api";
import { useApp } from "../context";
import { Action, Badge, Show, Table, Time, useGet } from "../ui";

export function TokenList() {
  const tokens = useGet(`/tokens`);
  const [made, setMade] = useState<string | null>(null);
  const [desc, setDesc] = useState("");
  return (
    <>
      <Show l={tokens}>
        {(d: any) => (
          <Table
            testid="tokens"
            rows={d.tokens}
            cols={[
              ["Id", (t: any) => <code>{t.id}</code>],
              ["User", (t: any) => t.user],
              ["Description", (t: any) => t.description ?? "—"],
              ["Created", (t: any) => <Time at={t.created_at} />],
              ["Expires", (t: any) => <Time at={t.expires_at} />],
              ["State", (t: any) => <Badge value={t.revoked_at ? "revoked" : t.expires_at && Date.parse(t.expires_at) < Date.now() ? "expired" : "ok"} />],
              ["", (t: any) => !t.revoked_at && <Action label="Revoke" kind="danger" confirm={`Revoke token ${t.id}?`} testid={`revoke-${t.id}`} run={() => api("DELETE", `/tokens/${t.id}`).then(tokens.reload)} />],
            ]}
          />
        )}
      </Show>
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <input placeholder="description" value={desc} onInput={(e) => setDesc((e.target as HTMLInputElement).value)} data-testid="token-description" />
        <Action
          label="Create a token (30 days)"
          testid="token-create"
          run={async () => {
            const r = await api("POST", "/tokens", { description: desc || "dashboard", expires_in_s: 30 * 86400 });
            setMade(r.token);
            tokens.reload();
          }}
        />
      </form>
      {made && (
        <p class="card" data-testid="token-made">
          New token, shown once: <code>{made}</code>
        </p>
      )}
    </>
  );
}

export function Tokens() {
  return (
    <>
      <h1>Tokens</h1>
      <TokenList />
    </>
  );
}

export function Audit() {
  const [user, setUser] = useState("");
  const log = useGet(`/audit${qs({ limit: 200, user })}`);
  return (
    <>
      <h1>Audit log</h1>
      <label class="row">
        User <input value={user} onChange={(e) => setUser((e.target as HTMLInputElement).value)} placeholder="anyone" />
      </label>
      <Show l={log}>
        {(d: any) => (
          <Table
            testid="audit"
            rows={[...d.entries].reverse()}
            cols={[
              ["#", (e: any) => e.seq],
              ["At", (e: any) => <Time at={e.at} />],
              ["Actor", (e: any) => e.actor || "—"],
              ["Action", (e: any) => e.action],
              ["Where", (e: any) => [e.project, e.target].filter(Boolean).join("/") || "—"],
              ["Resource", (e: any) => e.resource ?? "—"],
              ["Client", (e: any) => e.client],
              ["Outcome", (e: any) => <Badge value={e.outcome} />],
            ]}
          />
        )}
      </Show>
    </>
  );
}

export function People() {
  const { me } = useApp();
  const users = useGet(`/users`);
  const groups = useGet(`/groups`);
  const [name, setName] = useState("");
  const [group, setGroup] = useState("");
  const [member, setMember] = useState("");
  if (!me.admin) return <p>Only administrators manage users and groups.</p>;
  return (
    <>
      <h1>Users and groups</h1>
      <Show l={users}>
        {(d: any) => (
          <Table
            testid="users"
            rows={d.users}
            cols={[
              ["Name", (u: any) => u.name],
              ["Kind", (u: any) => u.kind],
              ["Administrator", (u: any) => (u.admin ? "yes" : "no")],
              ["Groups", (u: any) => u.groups.join(", ") || "—"],
              ["Created", (u: any) => <Time at={u.created_at} />],
            ]}
          />
        )}
      </Show>
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <input placeholder="new user name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="user-name" />
        <Action label="Add user" testid="user-create" run={() => api("POST", "/users", { name }).then(() => (setName(""), users.reload()))} />
      </form>
      <h2>Groups</h2>
      <Show l={groups}>
        {(d: any) => (
          <Table
            testid="groups"
            rows={d.groups}
            empty="No groups yet."
            cols={[
              ["Group", (g: any) => g.name],
              ["Members", (g: any) => g.members.map((m: string) => (
                <span class="badge" key={m}>
                  {m} <button class="link" title={`remove ${m}`} onClick={() => api("DELETE", `/groups/${encodeURIComponent(g.name)}/members/${encodeURIComponent(m)}`).then(groups.reload)}>×</button>
                </span>
              ))],
            ]}
          />
        )}
      </Show>
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <input placeholder="group" value={group} onInput={(e) => setGroup((e.target as HTMLInputElement).value)} />
        <input placeholder="member" value={member} onInput={(e) => setMember((e.target as HTMLInputElement).value)} />
        <Action label="Add to group" run={() => api("POST", `/groups/${encodeURIComponent(group)}/members`, { member }).then(() => (groups.reload(), users.reload()))} />
      </form>
      <h2>All tokens</h2>
      <TokenList />
    </>
  );
}
