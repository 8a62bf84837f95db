// Who makes a request, as the door established it (once): a token's principal, or the local user of
// the embedded CLI (who may do everything on the local home: the database is theirs anyway).

export interface Actor {
  name: string;
  kind: "user" | "service_principal" | "local";
  admin: boolean;
  groups: string[];
  /** The client's address ("local" for the embedded CLI). */
  client: string;
}

export function localActor(user: string): Actor {
  return { name: user, kind: "local", admin: true, groups: [], client: "local" };
}
