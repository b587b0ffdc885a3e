/**
 * The metrics subgraph: productivity and app usage from the rollups, event counts from raw events,
 * always computed over the caller's scope (executive: tenant, manager: team, viewer: self).
 */
import { type DocumentNode, parse, printType } from 'graphql';
import { schemaHeader } from '../../common/graphql/costSpec';
import { DateScalar } from '../../common/graphql/scalars';
import { TEAM_SCOPE } from '../common/sharedScans';

/** The productivity_daily columns productivityByUser and dailyByUser read (queries.ts). */
const ROLLUP_TOTALS = '["actor_id", "day", "total_events", "unique_apps", "auth_waste_hours", "context_switch_waste_hours"]';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  ${schemaHeader(['@key', '@inaccessible', '@listSize'])}

  ${printType(DateScalar)}

  type Query {
    "Internal, for the gateway's estimator: the caller's tenant's partition statistics (rows and logical bytes per table, day, column)."
    _scanStatistics: [PartitionStatistic!]! @inaccessible @noScan(reason: "reads the statistics recorded at ingest, not a table")
    "Internal, for the gateway: the version of each day partition and of each unpartitioned table of the caller's tenant; a version changes with every write to its data."
    _dataVersions: [DataVersion!]! @inaccessible @noScan(reason: "reads versions recorded at ingest, not a table")
  }

  "One day partition's (day set, table null) or one unpartitioned table's (table set, day null) version."
  type DataVersion @inaccessible {
    day: Date
    table: String
    version: String!
  }

  type PartitionStatistic @inaccessible {
    table: String!
    "Null for an unpartitioned table."
    day: Date
    column: String!
    rows: Float!
    logicalBytes: Float!
  }

  type User @key(fields: "id") {
    id: ID!
    "Totals over from..to (inclusive); uniqueApps sums each day's distinct apps."
    productivity(from: Date!, to: Date!): Productivity!
      @scan(query: "productivityByUser", table: "productivity_daily", columns: ${ROLLUP_TOTALS}, partitionedBy: ["from", "to"])
      ${TEAM_SCOPE}
    "One entry per day with events in from..to, ascending."
    daily(from: Date!, to: Date!): [DailyProductivity!]!
      @listSize(assumedSize: 31)
      @scan(query: "dailyByUser", table: "productivity_daily", columns: ${ROLLUP_TOTALS}, partitionedBy: ["from", "to"])
      ${TEAM_SCOPE}
  }

  type Tenant @key(fields: "id") {
    id: ID!
    "Users in the caller's scope with the most wasted hours (from the rollup), most first."
    topTimeWasters(from: Date!, to: Date!, first: Int = 10): [TimeWaster!]!
      @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
      @scan(query: "topTimeWasters", table: "productivity_daily", columns: ["actor_id", "day", "auth_waste_hours", "context_switch_waste_hours"], partitionedBy: ["from", "to"], per: "FIELD")
      ${TEAM_SCOPE}
    "Applications by events of users in the caller's scope (from the app-usage rollup), most used first."
    appUsage(from: Date!, to: Date!, first: Int = 10): [AppUsage!]!
      @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
      @scan(query: "appUsage", table: "app_usage_daily", columns: ["actor_id", "day", "app_id", "app_name", "events"], partitionedBy: ["from", "to"], per: "FIELD")
      ${TEAM_SCOPE}
    "Events per day of users in the caller's scope (raw events); eventType null counts every type."
    eventCounts(from: Date!, to: Date!, eventType: String): [EventCount!]!
      @listSize(assumedSize: 31)
      @scan(query: "eventCounts", table: "sso_events", columns: ["published"], partitionedBy: ["from", "to"], per: "FIELD")
      @scan(query: "eventCounts", table: "sso_events", columns: ["eventType"], partitionedBy: ["from", "to"], per: "FIELD", ifArgument: "eventType")
      @scan(query: "eventCounts", table: "sso_events", columns: ["actor.id"], partitionedBy: ["from", "to"], per: "FIELD", exceptRoles: ["executive"])
      ${TEAM_SCOPE}
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
