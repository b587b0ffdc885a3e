/**
 * The console: sign-in, then the views the signed-in roles may use — a quota admin's tenant overview,
 * users and audit trail; everyone's own budget and the explorer. Views are chosen by the URL's hash.
 */
import 'graphiql/graphiql.css';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Audit } from './admin/Audit';
import { Overview } from './admin/Overview';
import { Users } from './admin/Users';
import { ConfigContext, type ConsoleConfig } from './common';
import { Explorer } from './explorer/Explorer';
import { MyBudget } from './MyBudget';
import { completeSignIn } from './oidc';
import { type Session, currentSession, isQuotaAdmin, signIn, signOut } from './session';
import { SignIn, devSignIn } from './SignIn';

interface View {
  readonly hash: string;
  readonly label: string;
  readonly adminOnly: boolean;
}

const VIEWS: readonly View[] = [
  { hash: '#/overview', label: 'Tenant overview', adminOnly: true },
  { hash: '#/users', label: 'Users', adminOnly: true },
  { hash: '#/audit', label: 'Audit trail', adminOnly: true },
  { hash: '#/budget', label: 'My budget', adminOnly: false },
  { hash: '#/explorer', label: 'Explorer', adminOnly: false },
];

function App({ initial, problem }: { initial: Session | null; problem?: string }) {
  const [session, setSession] = useState(initial);
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onHash = () => setHash(location.hash);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  if (!session) return <SignIn onSignedIn={setSession} problem={problem} />;
  const views = VIEWS.filter((v) => !v.adminOnly || isQuotaAdmin(session));
  const view = views.find((v) => v.hash === hash) ?? views[0];
  return (
    <div className={`app${view.hash === '#/explorer' ? ' wide' : ''}`}>
      <header className="top">
        <span className="brand">bytegate</span>
        <nav aria-label="Views">
          {views.map((v) => <a key={v.hash} href={v.hash} aria-current={v === view ? 'page' : undefined}>{v.label}</a>)}
        </nav>
        <span className="who">
          {session.user} · {session.tenant} · {session.roles.join(', ')}
          <button type="button" className="link" onClick={() => { signOut(); setSession(null); }}>Sign out</button>
        </span>
      </header>
      <main>
        {view.hash === '#/overview' && <Overview session={session} />}
        {view.hash === '#/users' && <Users session={session} />}
        {view.hash === '#/audit' && <Audit session={session} />}
        {view.hash === '#/budget' && <MyBudget session={session} />}
        {view.hash === '#/explorer' && <Explorer session={session} />}
      </main>
    </div>
  );
}

async function start(): Promise<void> {
  const config = (await (await fetch('/console/config.json')).json()) as ConsoleConfig;
  let problem: string | undefined;
  try {
    const oidcToken = config.signIn.oidc ? await completeSignIn(config.signIn.oidc) : undefined;
    if (oidcToken) signIn(oidcToken);
    else await devSignIn();
  } catch (failure) {
    problem = (failure as Error).message;
  }
  createRoot(document.getElementById('root')!).render(
    <ConfigContext.Provider value={config}>
      <App initial={currentSession()} problem={problem} />
    </ConfigContext.Provider>,
  );
}

void start();
