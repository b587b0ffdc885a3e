/** `@scan` declarations several subgraphs share (the cost spec itself: common/graphql/costSpec.ts). */

/** The `users` columns every directory query selects (subgraphs/users/queries.ts USER_COLUMNS). */
export const USER_COLUMNS = '["id", "email", "display_name", "department", "manager_id"]';

/** A manager's team, looked up once per request by scope.ts (teamQuery); executives and viewers skip it. */
export const TEAM_SCOPE = '@scan(query: "teamScope", table: "users", columns: ["id", "manager_id"], per: "REQUEST", roles: ["manager"], exceptRoles: ["executive"])';
