/** The users subgraph: the tenant's directory, scoped by the caller's role. */
import { type DocumentNode, parse } from 'graphql';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])

  type Query {
    "The caller, or null when the directory has no entry for them."
    me: User
    "A user in the caller's scope; FORBIDDEN otherwise."
    user(id: ID!): User
    "The users in the caller's scope, ordered by id (Relay connection)."
    users(first: Int = 50, after: String): UserConnection!
  }

  type User @key(fields: "id") {
    id: ID!
    email: String
    displayName: String
    department: String
    manager: User
  }

  type UserConnection {
    edges: [UserEdge!]!
    pageInfo: PageInfo!
    "Users in the caller's scope, over all pages."
    totalCount: Int!
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
