import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The job reached its database or broker service and was refused at login: the credentials the job's
 * application uses are not the ones the service container was started with (service_credentials_mismatch,
 * proposed by the corpus's twenty-first pass). A service takes its users from the job's variables
 * (MYSQL_ROOT_PASSWORD, POSTGRES_PASSWORD, …) when it first starts; the application reads its own
 * config (.env, settings files), and the two drift apart.
 */

const REFUSED = new RegExp([
  // MySQL/MariaDB 1045, as the server words it (the client's address as the server saw it).
  String.raw`Access denied for user '([^']*)'@'([^']*)'`,
  // PostgreSQL's server messages, as clients relay them.
  String.raw`FATAL:\s+password authentication failed for user "([^"]*)"`,
  String.raw`FATAL:\s+role "([^"]*)" does not exist`,
  // Redis and RabbitMQ.
  String.raw`NOAUTH Authentication required|WRONGPASS invalid username-password pair`,
  String.raw`ACCESS_REFUSED - Login was refused using authentication mechanism`,
  String.raw`MongoServerError: Authentication failed`,
].join('|'))
const PRIVATE = /^(?:172\.(?:1[6-9]|2\d|3[01])|10|192\.168)\./

function serviceCredentials(s: Scan): Diagnosis[] {
  const hit = s.all(REFUSED).filter((h) => !s.inDiff(h.line)).pop()
  if (!hit) return []
  if (s.ev.trace.lines.some((l) => l.n > hit.line.n && l.text.startsWith('$ '))) return []
  const user = hit.m[1] ?? hit.m[3] ?? hit.m[4]
  const from = hit.m[2]
  const services = s.services()
  // The server saw the job on a container network, or the job declares services: the server is a service.
  const service = services.length > 0 || (from !== undefined && PRIVATE.test(from)) || s.has(/Starting service |Waiting for services to be up and running/)
  if (!service && s.family !== 'docker' && s.family !== 'kubernetes') return []
  // MySQL says whether a password was sent; the box of a PHP console may wrap it onto the next line.
  const around = s.ev.trace.lines.filter((l) => l.n >= hit.line.n && l.n <= hit.line.n + 1).map((l) => l.text.replace(/\s+/g, '')).join('')
  const noPassword = /usingpassword:NO/.test(around)
  const engine = /Access denied for user/.test(hit.line.text) ? 'mysql' : /FATAL:/.test(hit.line.text) ? 'postgres' : 'other'
  const vars = engine === 'mysql' ? 'MYSQL_ROOT_PASSWORD (root), MYSQL_USER/MYSQL_PASSWORD, MYSQL_DATABASE' : engine === 'postgres' ? 'POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB' : 'the service\'s own variables'
  const fixes: Fix[] = [
    { text: `Define the credentials once in the job's variables (services get them too, as ${vars}) and point the application's settings at them, with the service's alias as the host.`, snippet: engine === 'postgres'
      ? 'variables:\n  POSTGRES_USER: app\n  POSTGRES_PASSWORD: secret\n  POSTGRES_DB: app_test\n  DATABASE_URL: "postgresql://app:secret@postgres:5432/app_test"'
      : 'variables:\n  MYSQL_ROOT_PASSWORD: secret\n  MYSQL_DATABASE: app_test\n  DB_HOST: mysql\n  DB_USERNAME: root\n  DB_PASSWORD: $MYSQL_ROOT_PASSWORD' },
  ]
  if (noPassword) fixes.unshift({ text: 'The job sent no password at all: the setting it reads (DB_PASSWORD in .env, a CI variable) is empty in the job. Create the CI config file before the command, and check that the variable is not protected on an unprotected branch.', snippet: 'script:\n  - cp .env.testing .env\n  - php artisan migrate --force' })
  return [diagnosis('service_credentials_mismatch', `The ${engine === 'other' ? 'service' : engine === 'mysql' ? 'MySQL/MariaDB service' : 'PostgreSQL service'} refused the job's login${user ? ` as ${user}` : ''}`,
    `"${hit.line.text.trim().slice(0, 160)}": the job reached the ${service ? 'service container' : 'server'}${from ? ` (which saw it from ${from})` : ''} but its credentials are not the ones the server was started with${noPassword ? ' — and no password was sent' : ''}. The service creates its users from its variables when it starts; the application's own configuration says something else.`,
    evidence(s.commandAt(hit.line.n), hit), fixes, service ? 0.7 : 0.5)]
}

export const serviceCredentialsRule: Rule = {
  id: 'service-credentials',
  categories: ['service_credentials_mismatch'],
  match: (ev) => serviceCredentials(Scan.of(ev)),
}
