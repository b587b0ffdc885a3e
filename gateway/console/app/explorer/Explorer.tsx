/**
 * GraphiQL (bundled, no CDN) with the signed-in token, and beside it the operation's price: while it is
 * edited, the gateway prices it with `x-cost-mode: estimate` (nothing runs, nothing is charged); once it
 * runs, what it billed, beside the estimate.
 */
import type { Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { useEffect, useMemo, useRef, useState } from 'react';
import { type Cost, type GraphqlResponse, graphql } from '../api';
import type { Session } from '../session';
import { CostPanel, type Priced } from './CostPanel';

const FIRST_QUERY = `# Every operation is priced in BigQuery bytes before it runs: see the panel on the right.
query Dashboard {
  tenant {
    name
    dataRange { from to }
  }
  me { displayName budget { remainingBytes } }
}
`;

/** How long the editor must be still before the operation is priced. */
const ESTIMATE_AFTER_MS = 400;

export function Explorer({ session }: { session: Session }) {
  const [edited, setEdited] = useState({ query: FIRST_QUERY, variables: '' });
  const [estimate, setEstimate] = useState<Priced>();
  const [actual, setActual] = useState<{ query: string; cost?: Cost }>();
  const pending = useRef<AbortController>();

  useEffect(() => {
    const timer = setTimeout(() => {
      pending.current?.abort();
      const controller = (pending.current = new AbortController());
      let variables: Record<string, unknown> | undefined;
      try {
        variables = edited.variables.trim() ? (JSON.parse(edited.variables) as Record<string, unknown>) : undefined;
      } catch {
        setEstimate({ query: edited.query, failed: 'The variables are not valid JSON.' });
        return;
      }
      graphql(session, edited.query, variables, { estimate: true, signal: controller.signal }).then(
        (response) => setEstimate({ query: edited.query, response }),
        (error: Error) => error.name !== 'AbortError' && setEstimate({ query: edited.query, failed: error.message }),
      );
    }, ESTIMATE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [edited, session]);

  const fetcher = useMemo<Fetcher>(() => async ({ query, variables, operationName }) => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ query, variables, operationName }),
    });
    const body = (await response.json()) as GraphqlResponse<unknown>;
    if (operationName !== 'IntrospectionQuery') setActual({ query, cost: body.extensions?.cost ?? body.errors?.[0]?.extensions?.cost });
    return body as never;
  }, [session]);

  const box = useRef<HTMLDivElement>(null);
  useEffect(() => (box.current ? labelEditors(box.current) : undefined), []);

  return (
    <div className="explorer">
      <div className="graphiql-box" ref={box}>
        <GraphiQL
          fetcher={fetcher}
          defaultQuery={FIRST_QUERY}
          onEditQuery={(query) => setEdited((e) => ({ ...e, query }))}
          onEditVariables={(variables) => setEdited((e) => ({ ...e, variables }))}
          isHeadersEditorEnabled={false}
        />
      </div>
      <CostPanel estimate={estimate} actual={actual?.query === edited.query ? actual.cost : undefined} stale={estimate?.query !== edited.query} />
    </div>
  );
}

/** GraphiQL's editors as assistive technology needs them: each labelled, each scrolling area reachable by keyboard (kept so as GraphiQL redraws). */
function labelEditors(root: HTMLElement): () => void {
  const label = () => {
    for (const [selector, name] of EDITOR_LABELS) {
      root.querySelectorAll(`${selector} textarea`).forEach((area) => area.getAttribute('aria-label') || area.setAttribute('aria-label', name));
    }
    root.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])').forEach((scroll) => scroll.setAttribute('tabindex', '0')); // CodeMirror sets -1
  };
  const observer = new MutationObserver(label);
  observer.observe(root, { childList: true, subtree: true });
  label();
  return () => observer.disconnect();
}

const EDITOR_LABELS: readonly (readonly [string, string])[] = [
  ['.graphiql-query-editor', 'GraphQL operation'],
  ['.graphiql-editor-tool', 'Variables (JSON)'],
  ['.graphiql-response', 'Response'],
];
