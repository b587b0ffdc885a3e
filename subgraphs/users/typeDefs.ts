/** The users subgraph: the tenant's directory, scoped by the caller's role. */
import { type DocumentNode, parse } from 'graphql';
import { schemaHeader } from '../../common/graphql/costSpec';
import { TEAM_SCOPE, USER_COLUMNS } from '../common/sharedScans';

/** One DataLoader batch of directory entries (loaders.ts userById). */
const USERS_BY_ID = `@scan(query: "usersById", table: "users", columns: ${USER_COLUMNS})`;
/** The caller's managers, looked up once per request when a profile outside the scope is asked for. */
const MANAGEMENT_CHAIN = '@scan(query: "managementChain", table: "users", columns: ["id", "manager_id"], per: "REQUEST", exceptRoles: ["executive"])';
const FROM_ROW = '@noScan(reason: "read from the directory row loaded with the user")';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  ${schemaHeader(['@key', '@shareable', '@listSize', '@inaccessible'])}

  type Query {
    "Internal, for the gateway's budget admin: which of ids the caller's tenant's directory holds, in the order given."
    _knownUsers(ids: [ID!]!): [ID!]! @inaccessible ${USERS_BY_ID}
    "The caller (the id from the verified identity); its directory fields are null when the directory has no entry for them. Asking for its id alone reads no directory row."
    me: User @scan(query: "usersById", table: "users", columns: ${USER_COLUMNS}, unlessOnly: ["id"]) @responseCache(scope: "CALLER")
    "A user in the caller's scope; FORBIDDEN otherwise."
    user(id: ID!): User ${USERS_BY_ID} ${TEAM_SCOPE}
    "The users in the caller's scope, ordered by id (Relay connection)."
    users(first: Int = 50, after: String): UserConnection!
      @listSize(slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
      @scan(query: "usersPage", table: "users", columns: ${USER_COLUMNS}, per: "FIELD")
      ${TEAM_SCOPE}
  }

  type User @key(fields: "id")
    @scan(subgraph: "users", query: "usersById", table: "users", columns: ${USER_COLUMNS})
    @scan(subgraph: "users", query: "managementChain", table: "users", columns: ["id", "manager_id"], per: "REQUEST", exceptRoles: ["executive"])
    @scan(subgraph: "users", query: "teamScope", table: "users", columns: ["id", "manager_id"], per: "REQUEST", roles: ["manager"], exceptRoles: ["executive"])
  {
    id: ID!
    email: String ${FROM_ROW}
    displayName: String ${FROM_ROW}
    department: String ${FROM_ROW}
    manager: User ${USERS_BY_ID} ${MANAGEMENT_CHAIN} ${TEAM_SCOPE}
  }

  type UserConnection {
    edges: [UserEdge!]!
    pageInfo: PageInfo!
    "Users in the caller's scope, over all pages. (An executive's count(*) reads no column.)"
    totalCount: Int!
      @scan(query: "countUsers", table: "users", columns: [], per: "REQUEST")
      @scan(query: "countUsers", table: "users", columns: ["id"], per: "REQUEST", exceptRoles: ["executive"])
      ${TEAM_SCOPE}
  }

  type UserEdge {
    cursor: String!
    node: User!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }
`);
