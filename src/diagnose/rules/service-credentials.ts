import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The job reached its database or broker service and was refused at login: the credentials the job's
 * application uses are not the ones the service container was started with (service_credentials_mismatch,
 * proposed by the corpus's twenty-first pass). A service takes its users from the job's variables
 * (MYSQL_ROOT_PASSWORD, POSTGRES_PASSWORD, …) when it first starts; the application reads its own
 * config (.env, settings files), and the two drift apart. Only with evidence of such a service: a real
 * server's refusal is the credentials of that server, which the log alone cannot place.
 */

type Engine = 'mysql' | 'postgres' | 'redis' | 'rabbitmq' | 'mongo' | 'mssql'

const REFUSED: [Engine, RegExp][] = [
  // MySQL/MariaDB 1045 and 1044, as the server words them (the client's address as the server saw it).
  ['mysql', /Access denied for user '([^']*)'@'([^']*)'(?: to database '([^']*)')?/],
  // PostgreSQL's server message, relayed with FATAL: (libpq), error: (node-postgres) or pq: (Go).
  ['postgres', /password authentication failed for user "([^"]*)"|(?:FATAL:\s+|pq: |error: )role "([^"]*)" does not exist/],
  ['redis', /NOAUTH Authentication required|WRONGPASS invalid username-password pair/],
  ['rabbitmq', /ACCESS_REFUSED - Login was refused using authentication mechanism/],
  ['mongo', /MongoServerError: Authentication failed/],
  ['mssql', /Login failed for user '([^']*)'/],
]
// The images a service of each engine runs, as `Starting service …` and the CI YAML name them.
const IMAGE: Record<Engine, RegExp> = {
  mysql: /mysql|mariadb|percona/i, postgres: /postgres|postgis|timescale/i, redis: /redis|valkey|keydb/i,
  rabbitmq: /rabbitmq/i, mongo: /mongo/i, mssql: /mssql|sqlserver|azure-sql-edge/i,
}
const VARS: Record<Engine, [string, string]> = {
  mysql: ['MYSQL_ROOT_PASSWORD (root), MYSQL_USER/MYSQL_PASSWORD, MYSQL_DATABASE', 'variables:\n  MYSQL_ROOT_PASSWORD: secret\n  MYSQL_DATABASE: app_test\n  DB_HOST: mysql\n  DB_USERNAME: root\n  DB_PASSWORD: $MYSQL_ROOT_PASSWORD'],
  postgres: ['POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB', 'variables:\n  POSTGRES_USER: app\n  POSTGRES_PASSWORD: secret\n  POSTGRES_DB: app_test\n  DATABASE_URL: "postgresql://app:secret@postgres:5432/app_test"'],
  redis: ['the password the image reads (REDIS_PASSWORD for bitnami/redis; the official image takes --requirepass)', 'variables:\n  REDIS_PASSWORD: secret\n  REDIS_URL: "redis://:secret@redis:6379/0"'],
  rabbitmq: ['RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS', 'variables:\n  RABBITMQ_DEFAULT_USER: app\n  RABBITMQ_DEFAULT_PASS: secret\n  AMQP_URL: "amqp://app:secret@rabbitmq:5672/"'],
  mongo: ['MONGO_INITDB_ROOT_USERNAME, MONGO_INITDB_ROOT_PASSWORD', 'variables:\n  MONGO_INITDB_ROOT_USERNAME: root\n  MONGO_INITDB_ROOT_PASSWORD: secret\n  MONGODB_URI: "mongodb://root:secret@mongo:27017/?authSource=admin"'],
  mssql: ['MSSQL_SA_PASSWORD (with ACCEPT_EULA: "Y")', 'variables:\n  ACCEPT_EULA: "Y"\n  MSSQL_SA_PASSWORD: "Str0ng!Passw0rd"\n  DB_CONNECTION: "Server=mssql;User Id=sa;Password=Str0ng!Passw0rd;TrustServerCertificate=True"'],
}
const NAME: Record<Engine, string> = { mysql: 'MySQL/MariaDB', postgres: 'PostgreSQL', redis: 'Redis', rabbitmq: 'RabbitMQ', mongo: 'MongoDB', mssql: 'SQL Server' }
// Docker's bridge networks (172.17.0.0/16 and the user networks after it): a service container's peer.
const DOCKER_BRIDGE = /^172\.(?:1[7-9]|2\d|3[01])\./

function serviceCredentials(s: Scan): Diagnosis[] {
  const found = REFUSED.map(([engine, re]) => ({ engine, hit: s.all(re).filter((h) => !s.inDiff(h.line)).pop() }))
    .filter((x) => x.hit !== undefined).sort((a, b) => b.hit!.line.n - a.hit!.line.n)[0]
  if (!found?.hit || s.wentPast(found.hit.line)) return []
  const { engine, hit } = found
  const m = hit.m
  const user = m[1] ?? m[2]
  const from = engine === 'mysql' ? m[2] : undefined
  const database = engine === 'mysql' ? m[3] : undefined
  // A service of this engine started (or declared), or the server saw the job from a Docker bridge
  // address (a container peer; not on a shell runner, whose host can sit on any private network).
  // The services of this job: started in its log, or in the YAML job the log is (not another job's).
  const service = s.jobService(IMAGE[engine])
  const bridge = from !== undefined && DOCKER_BRIDGE.test(from) && s.family !== 'shell'
  if (!service && !bridge) return []
  // MySQL says whether a password was sent; the box of a PHP console may wrap it onto the next line.
  const around = s.ev.trace.lines.filter((l) => l.n >= hit.line.n && l.n <= hit.line.n + 1).map((l) => l.text.replace(/\s+/g, '')).join('')
  const noPassword = /usingpassword:NO/.test(around)
  const cmd = s.commandAt(hit.line.n)
  const [vars, snippet] = VARS[engine]
  const where = service ? `the ${service} service` : `a service container (the server saw the job from ${from}, a Docker network address)`
  if (database !== undefined) {
    return [diagnosis('service_credentials_mismatch', `The ${NAME[engine]} service has no grant for ${user} on ${database}`,
      `"${hit.line.text.trim().slice(0, 160)}": the login worked, but ${user} may not use the database ${database} on ${where}. The image gives MYSQL_USER rights on MYSQL_DATABASE only, so the application's database name and the service's must be the same.`,
      evidence(cmd, hit), [
        { text: `Create the database the application uses: set MYSQL_DATABASE to ${database} (or point the application at the one the service created).`, snippet: `variables:\n  MYSQL_DATABASE: ${database}\n  MYSQL_USER: ${user ?? 'app'}\n  MYSQL_PASSWORD: secret` },
      ], 0.7)]
  }
  const fixes: Fix[] = [{ text: `Define the credentials once in the job's variables (services get them too, as ${vars}) and point the application's settings at them, with the service's alias as the host.`, snippet }]
  if (noPassword) {
    fixes.unshift(/artisan/.test(cmd?.text ?? '')
      ? { text: 'The job sent no password at all: Laravel\'s .env for CI is missing or has an empty DB_PASSWORD. Create it before the command, and check that the variable is not protected on an unprotected branch.', snippet: 'script:\n  - cp .env.testing .env\n  - php artisan migrate --force' }
      : { text: 'The job sent no password at all: the setting the application reads (a config file for CI, an environment variable) is empty in the job. Set it from the service\'s variable, and check that a CI variable it comes from is not protected on an unprotected branch.' })
  }
  return [diagnosis('service_credentials_mismatch', `The ${NAME[engine]} service refused the job's login${user ? ` as ${user}` : ''}`,
    `"${hit.line.text.trim().slice(0, 160)}": the job reached ${where} but its credentials are not the ones the server was started with${noPassword ? ' — and no password was sent' : ''}. The service creates its users from its variables when it starts; the application's own configuration says something else.`,
    evidence(cmd, hit), fixes, service ? 0.7 : 0.6)]
}

export const serviceCredentialsRule: Rule = {
  id: 'service-credentials',
  categories: ['service_credentials_mismatch'],
  match: (ev) => serviceCredentials(Scan.of(ev)),
}
