/**
 * A Federation subgraph schema from typeDefs and typed resolvers — the one adapter over
 * @apollo/subgraph's `buildSubgraphSchema` that both the subgraph servers and the gateway's in-process
 * admin subgraph use.
 *
 * Why an adapter: @apollo/subgraph types resolvers as `GraphQLResolverMap`, which its package root
 * does not export (only `dist/schema-helper` does), and whose context parameter `buildSubgraphSchema`
 * fixes to `unknown`. `ResolverMap` is the same shape with the context typed; the assignment check
 * below fails to compile if Apollo's shape ever moves away from it.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type DocumentNode, type GraphQLFieldResolver, type GraphQLScalarType, type GraphQLSchema, Kind } from 'graphql';
import { SCALARS } from './scalars';

/** Resolvers by type and field, as @apollo/subgraph takes them (`__resolveReference` included). */
export interface ResolverMap<Context> {
  [typeName: string]:
    | { [fieldName: string]: GraphQLFieldResolver<any, Context> | { requires?: string; resolve?: GraphQLFieldResolver<any, Context> } }
    | GraphQLScalarType
    | { [enumValue: string]: string | number };
}

/** The subgraph schema of `typeDefs`, with the custom scalars they declare (./scalars.ts) added. */
export function subgraphSchema<Context>(typeDefs: DocumentNode, resolvers: ResolverMap<Context>): GraphQLSchema {
  // The server passes its own context to every resolver; buildSubgraphSchema's types only know `unknown`.
  const untyped: ApolloResolvers = { ...declaredScalars(typeDefs), ...(resolvers as ResolverMap<unknown>) };
  return buildSubgraphSchema({ typeDefs, resolvers: untyped });
}

// Private:

/** `resolvers` of buildSubgraphSchema's module argument, from its public signature. */
type ApolloResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

function declaredScalars(typeDefs: DocumentNode): Record<string, GraphQLScalarType> {
  const declared = typeDefs.definitions.flatMap((d) => (d.kind === Kind.SCALAR_TYPE_DEFINITION && SCALARS[d.name.value] ? [d.name.value] : []));
  return Object.fromEntries(declared.map((name) => [name, SCALARS[name]]));
}
