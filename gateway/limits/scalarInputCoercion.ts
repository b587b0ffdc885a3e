import { GraphQLScalarType, type GraphQLSchema } from 'graphql';
import { SCALARS } from '../../common/graphql/scalars';

/**
 * Scalar input coercion
 * The API schema's custom scalars, which composition leaves accepting any value, get the subgraphs'
 * own input coercion (common/graphql/scalars.ts): a bad date, or a list where a date belongs, fails
 * validation at the gateway as BAD_USER_INPUT — before pricing and planning, before any subgraph is asked.
 */
export function adoptScalarInputCoercion(schema: GraphQLSchema): void {
  for (const [name, scalar] of Object.entries(SCALARS)) {
    const type = schema.getType(name);
    if (type instanceof GraphQLScalarType) Object.assign(type, { parseValue: scalar.parseValue, parseLiteral: scalar.parseLiteral });
  }
}
