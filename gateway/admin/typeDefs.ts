/**
 * The budgets subgraph: quota administration, served by the gateway itself (in-process, through
 * Apollo's LocalGraphQLDataSource) because budgets are the gateway's business — it reserves and
 * settles them — and so every replica reads the same ledger the requests are charged to.
 */
import { type DocumentNode, parse } from 'graphql';
import { schemaHeader } from '../../common/graphql/costSpec';

/** Budgets change with every operation charged: free to read, never kept by the response cache. */
const LEDGER = '@noScan(reason: "budgets live in the ledger and the budget store, not the warehouse") @responseCache(scope: "NONE")';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  ${schemaHeader(['@key'])}

  "A calendar date, YYYY-MM-DD (UTC)."
  scalar Date
  "An instant, ISO-8601 with a timezone."
  scalar DateTime
  "A byte count: a non-negative integer JSON number."
  scalar Bytes

  type Query {
    "The caller's own budget today. Free (reads no warehouse data), so it answers even when the budget is spent."
    myBudget: Budget! ${LEDGER}
    "The tenant's top spenders over from..to (budget days) and its recent refusals and budget changes. quota-admin only."
    budgetUsage(from: Date!, to: Date!, first: Int = 10): BudgetUsage! ${LEDGER}
  }

  type Mutation {
    "Sets a user's daily limit and per-query cap (null clears an override). quota-admin of the same tenant only."
    setUserBudget(userId: ID!, dailyLimitBytes: Bytes, maxQueryBytes: Bytes, reason: String): Budget! ${LEDGER}
    "Sets the tenant's daily limit (all its users together) and per-query cap. quota-admin only."
    setTenantBudget(dailyLimitBytes: Bytes, maxQueryBytes: Bytes, reason: String): Budget! ${LEDGER}
    "Sets today's usage back to 0, for one user or (userId null) the whole tenant. quota-admin only."
    resetBudgetUsage(userId: ID, reason: String): Budget! ${LEDGER}
  }

  type User @key(fields: "id") {
    id: ID!
    "Today's budget: readable by the user and by quota-admins."
    budget: Budget ${LEDGER}
  }

  type Tenant @key(fields: "id") {
    id: ID!
    "Today's budget of the whole tenant: readable by executives and quota-admins."
    budget: Budget ${LEDGER}
  }

  type Budget {
    "Null: unlimited."
    dailyLimitBytes: Bytes
    "The per-query cap that applies."
    maxQueryBytes: Bytes
    usedBytes: Bytes!
    "Null: unlimited."
    remainingBytes: Bytes
    "The next midnight in the tenant's timezone."
    resetsAt: DateTime!
  }

  type BudgetUsage {
    topSpenders: [Spender!]!
    recentRejections: [BudgetRejection!]!
    changes: [BudgetChange!]!
  }

  type Spender {
    user: User!
    usedBytes: Bytes!
  }

  type BudgetRejection {
    at: DateTime!
    user: User!
    requestedBytes: Bytes!
    "user or tenant: whose budget was exhausted."
    exceeded: String!
  }

  type BudgetChange {
    at: DateTime!
    "Who made the change (a user id, or cli:<name>)."
    actor: String!
    "null: the tenant."
    user: User
    action: String!
    "JSON of the settings before and after."
    old: String
    new: String
    reason: String
  }
`);
