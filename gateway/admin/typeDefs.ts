/**
 * The budgets subgraph: quota administration, served by the gateway itself (in-process, through
 * Apollo's LocalGraphQLDataSource) because budgets are the gateway's business — it reserves and
 * settles them — and so every replica reads the same ledger the requests are charged to.
 */
import { type DocumentNode, parse, printType } from 'graphql';
import { schemaHeader } from '../../common/graphql/costSpec';
import { BytesScalar, DateScalar, DateTimeScalar } from '../../common/graphql/scalars';
import { MAX_OPERATION_NAMES, SPEND_HISTORY_DAYS } from '../../budgets/ledger';
import { MAX_BUDGET_USERS } from './resolvers';

/** Budgets change with every operation charged: free to read, never kept by the response cache. */
const LEDGER = '@noScan(reason: "budgets live in the ledger and the budget store, not the warehouse") @responseCache(scope: "NONE")';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  ${schemaHeader(['@key'])}

  ${printType(DateScalar)}
  ${printType(DateTimeScalar)}
  ${printType(BytesScalar)}

  type Query {
    "The caller's own budget today. Free (reads no warehouse data), so it answers even when the budget is spent."
    myBudget: Budget! ${LEDGER}
    "The tenant's top spenders over from..to (budget days) and its recent refusals and budget changes. quota-admin only."
    budgetUsage(from: Date!, to: Date!, first: Int = 10): BudgetUsage! ${LEDGER}
    "Billed bytes per budget day from..to (at most ${SPEND_HISTORY_DAYS} days), 0 for a day without any: the tenant's, or one user's. quota-admin only."
    budgetHistory(from: Date!, to: Date!, userId: ID): [DailySpend!]! ${LEDGER}
    "Estimated (reserved) against billed bytes per operation name over from..to (at most ${SPEND_HISTORY_DAYS} days), the largest estimates first. quota-admin only."
    estimatorAccuracy(from: Date!, to: Date!, first: Int = 50): [OperationAccuracy!]! ${LEDGER}
    "Users with an override or billed bytes in the last ${SPEND_HISTORY_DAYS} budget days (at most ${MAX_BUDGET_USERS}: overrides first, then the biggest spenders), with the limits in effect, the most used today first. quota-admin only."
    budgetUsers: [UserBudget!]! ${LEDGER}
    "The limits that apply where no quota admin set one. quota-admin only."
    budgetDefaults: BudgetDefaults! ${LEDGER}
  }

  type Mutation {
    "Sets a user's daily limit and per-query cap (null clears an override). quota-admin of the same tenant only. A userId the tenant's directory does not know is BAD_USER_INPUT, unless the change only clears (so an old typo's override can be removed)."
    setUserBudget(userId: ID!, dailyLimitBytes: Bytes, maxQueryBytes: Bytes, reason: String): Budget! ${LEDGER}
    "Sets the tenant's daily limit (all its users together) and per-query cap. quota-admin only."
    setTenantBudget(dailyLimitBytes: Bytes, maxQueryBytes: Bytes, reason: String): Budget! ${LEDGER}
    "Sets today's usage back to 0, for one user (the tenant's usage drops by that user's) or (userId null) the whole tenant. quota-admin only. A userId the tenant's directory does not know is BAD_USER_INPUT."
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

  type DailySpend {
    "The budget day, in the tenant's timezone."
    date: Date!
    billedBytes: Bytes!
  }

  type OperationAccuracy {
    "The operation's name; (anonymous) for operations without one, (other) past ${MAX_OPERATION_NAMES} names a day."
    operationName: String!
    "Operations settled (answers from the response cache reserve nothing and are not counted)."
    operations: Int!
    "What was reserved: the estimates."
    estimatedBytes: Bytes!
    billedBytes: Bytes!
  }

  enum BudgetLimitSource {
    "A quota admin set the user's daily limit."
    OVERRIDE
    "The default of the user's most generous role (BUDGET_DEFAULTS)."
    ROLE_DEFAULT
  }

  type UserBudget {
    user: User!
    "Billed today."
    usedBytes: Bytes!
    "Null: unlimited."
    remainingBytes: Bytes
    "The daily limit in effect; null: unlimited."
    dailyLimitBytes: Bytes
    "The per-query cap in effect."
    maxQueryBytes: Bytes!
    limitSource: BudgetLimitSource!
    "The roles the user last ran an operation reading warehouse data with; empty if never seen (the least generous default applies)."
    roles: [String!]!
  }

  type BudgetDefaults {
    roles: [RoleBudget!]!
    "The daily limit of a whole tenant; null: unlimited."
    tenantDailyBytes: Bytes
    "MAX_QUERY_BYTES: the per-query cap, which stored caps only lower."
    maxQueryBytes: Bytes!
  }

  type RoleBudget {
    role: String!
    "Null: unlimited."
    dailyBytes: Bytes
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
