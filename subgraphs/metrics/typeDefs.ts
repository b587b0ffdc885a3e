/**
 * The metrics subgraph: productivity from the productivity_daily rollup and raw-event analytics,
 * always computed over the caller's scope (executive: tenant, manager: team, viewer: self).
 */
import { type DocumentNode, parse } from 'graphql';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

  "A calendar date, YYYY-MM-DD (UTC)."
  scalar Date

  type User @key(fields: "id") {
    id: ID!
    "Totals over from..to (inclusive); uniqueApps sums each day's distinct apps."
    productivity(from: Date!, to: Date!): Productivity!
    "One entry per day with events in from..to, ascending."
    daily(from: Date!, to: Date!): [DailyProductivity!]!
  }

  type Tenant @key(fields: "id") {
    id: ID!
    "Users in the caller's scope with the most wasted hours (from the rollup), most first."
    topTimeWasters(from: Date!, to: Date!, first: Int = 10): [TimeWaster!]!
    "Applications by events of users in the caller's scope (raw events), most used first."
    appUsage(from: Date!, to: Date!, first: Int = 10): [AppUsage!]!
    "Events per day of users in the caller's scope (raw events); eventType null counts every type."
    eventCounts(from: Date!, to: Date!, eventType: String): [EventCount!]!
  }

  type Productivity {
    totalEvents: Int!
    uniqueApps: Int!
    authWasteHours: Float!
    contextSwitchWasteHours: Float!
    totalWasteHours: Float!
  }

  type DailyProductivity {
    date: Date!
    totalEvents: Int!
    uniqueApps: Int!
    authWasteHours: Float!
    contextSwitchWasteHours: Float!
    totalWasteHours: Float!
  }

  type TimeWaster {
    user: User!
    totalWasteHours: Float!
    authWasteHours: Float!
    contextSwitchWasteHours: Float!
  }

  type App {
    id: ID!
    name: String
  }

  type AppUsage {
    app: App!
    events: Int!
    users: Int!
  }

  type EventCount {
    date: Date!
    eventType: String
    count: Int!
  }
`);
