/** The tenants subgraph: the caller's tenant and the span of its data. */
import { type DocumentNode, parse } from 'graphql';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

  "A calendar date, YYYY-MM-DD (UTC)."
  scalar Date

  type Query {
    "The caller's tenant (from the verified identity, never from arguments)."
    tenant: Tenant!
  }

  type Tenant @key(fields: "id") {
    id: ID!
    name: String!
    "The first and last day with events; null while the tenant has none."
    dataRange: DateRange
  }

  type DateRange {
    from: Date!
    to: Date!
  }
`);
