/** The tenants subgraph: the caller's tenant and the span of its data. */
import { type DocumentNode, parse, printType } from 'graphql';
import { schemaHeader } from '../../common/graphql/costSpec';
import { DateScalar } from '../../common/graphql/scalars';

export const typeDefs: DocumentNode = parse(/* GraphQL */ `
  ${schemaHeader(['@key'])}

  ${printType(DateScalar)}

  type Query {
    "The caller's tenant (from the verified identity, never from arguments)."
    tenant: Tenant! @noScan(reason: "the tenant comes from the verified identity")
  }

  type Tenant @key(fields: "id") {
    id: ID!
    name: String! @scan(query: "tenantName", table: "tenant_info", columns: ["name"], per: "REQUEST")
    "The first and last day with events; null while the tenant has none."
    dataRange: DateRange @noScan(reason: "from the statistics recorded at ingest, not a table") @responseCache(versionedBy: "ALL_DAYS")
  }

  type DateRange {
    from: Date!
    to: Date!
  }
`);
