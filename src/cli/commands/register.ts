import { existsSync, readFileSync } from 'node:fs'
import { arch, hostname } from 'node:os'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { EXECUTORS } from '../../executors/registry.js'
import { GLRUN_VERSION } from '../../job/job-variables.js'
import { loadRunnerConfig } from '../../runner-config/load.js'
import { RunnerApi, type RunnerInfo } from '../../runner/api.js'
import { gitlabTlsError } from '../../runner/gitlab-tls.js'
import { appendRunner, defaultConfigPath, removeRunners } from '../../runner/config-file.js'
import { FEATURES } from '../../runner/job-loop.js'
import type { Io } from '../io.js'

function info(name: string, executor: string): RunnerInfo {
  return { name, version: GLRUN_VERSION, revision: 'glrun', platform: 'linux', architecture: arch() === 'x64' ? 'amd64' : arch(), executor, shell: 'bash', features: FEATURES }
}

function caOf(file: string | undefined): string | undefined {
  if (!file) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new GlrunError('GLRUN_CONFIG_TLS_CA_FILE', `tls-ca-file "${file}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Give the PEM file of the CA that signed your GitLab certificate.' })
  }
}

/** Network failures as one clear error (a certificate problem names tls-ca-file). */
function unreachable(url: string, e: unknown, caFile?: string): GlrunError {
  return gitlabTlsError(url, e, caFile) ?? new GlrunError('GLRUN_GITLAB_UNREACHABLE', `cannot reach GitLab at ${url}: ${(e as Error).message}`, {
    hint: 'Check the URL and that this machine reaches it (`glrun doctor`).',
  })
}

interface RegisterFlags { url?: string; token?: string; registrationToken?: string; executor?: string; name?: string; dockerImage?: string; tlsCaFile?: string; config?: string; nonInteractive?: boolean; tagList?: string }

/** gitlab-runner's register, verify and unregister, on the same config.toml. */
export function registerCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program.command('register')
    .description('register with GitLab and add a [[runners]] entry to config.toml (existing content kept)')
    .option('--url <url>', 'GitLab instance URL (env CI_SERVER_URL)')
    .option('--token <glrt-…>', 'runner authentication token, from GitLab\'s UI or API (env RUNNER_TOKEN)')
    .option('--registration-token <token>', 'legacy registration token (env REGISTRATION_TOKEN)')
    .option('--executor <name>', `executor: ${Object.keys(EXECUTORS).join(', ')} (env RUNNER_EXECUTOR)`)
    .option('--name <name>', 'runner name (env RUNNER_NAME; default: this host\'s name)')
    .option('--docker-image <image>', 'default image for the docker executor (env DOCKER_IMAGE)')
    .option('--tag-list <tags>', 'legacy flow: comma-separated tags (env RUNNER_TAG_LIST)')
    .option('--tls-ca-file <pem>', 'CA of a GitLab with a private certificate (env CI_SERVER_TLS_CA_FILE)')
    .option('--config <config.toml>', 'the file to write (default: $GLRUN_CONFIG, ~/.gitlab-runner/config.toml)')
    .option('--non-interactive', 'never ask (glrun never asks; accepted for gitlab-runner\'s command lines)')
    .action(async (f: RegisterFlags) => {
      const env = process.env
      const url = f.url ?? env.CI_SERVER_URL
      const token = f.token ?? env.RUNNER_TOKEN
      const regToken = f.registrationToken ?? env.REGISTRATION_TOKEN
      const executor = f.executor ?? env.RUNNER_EXECUTOR
      const name = f.name ?? env.RUNNER_NAME ?? hostname()
      const caFile = f.tlsCaFile ?? env.CI_SERVER_TLS_CA_FILE
      const missing = [!url && '--url', !token && !regToken && '--token (or --registration-token)', !executor && '--executor'].filter(Boolean)
      if (missing.length) throw new GlrunError('GLRUN_REGISTER_USAGE', `register needs ${missing.join(', ')}`, { hint: 'Example: glrun register --url https://gitlab.example.com --token glrt-… --executor shell' })
      if (!EXECUTORS[executor!]) throw new GlrunError('GLRUN_EXECUTOR_UNKNOWN', `executor "${executor}" is not available in this version of glrun`, { hint: `Available: ${Object.keys(EXECUTORS).join(', ')}.` })
      const caPem = caOf(caFile)
      const api = new RunnerApi({ url: url!, ...(caPem ? { caPem } : {}) })
      const i = info(name, executor!)
      let answer
      try {
        answer = token ? await api.verify(token, `s_glrun${hostname().replace(/[^a-z0-9]/gi, '').slice(0, 12)}`, i) : await api.register(regToken!, name, i, (f.tagList ?? env.RUNNER_TAG_LIST ?? '').split(',').map((t) => t.trim()).filter(Boolean))
      } catch (e) {
        throw unreachable(url!, e, caFile)
      }
      if (answer.status === 410) throw new GlrunError('GLRUN_REGISTER_DISABLED', 'GitLab does not accept registration tokens any more (410 Gone)', { hint: 'Create the runner in GitLab (Settings > CI/CD > Runners > New runner) and register with its glrt-… token: --token.' })
      if (answer.status === 403) throw new GlrunError('GLRUN_REGISTER_FORBIDDEN', `GitLab refused the ${token ? 'runner authentication' : 'registration'} token (403)`, { hint: 'Copy the token again from GitLab; a reset or deleted runner\'s token stops working at once.' })
      if (answer.status !== 200 && answer.status !== 201) throw new GlrunError('GLRUN_REGISTER_FAILED', `GitLab answered ${answer.status} to the registration`, { hint: 'Retry; check GitLab\'s status.' })
      let details: { token?: string; token_expires_at?: string | null } = {}
      try {
        details = JSON.parse(answer.body.toString('utf8')) as typeof details
      } catch {
        // older GitLab answers verify with a plain "200"
      }
      const path = resolve(f.config ?? defaultConfigPath())
      appendRunner(path, { name, url: url!, token: details.token ?? token ?? '', tokenExpiresAt: details.token_expires_at ?? null, executor: executor!, ...(f.dockerImage ?? env.DOCKER_IMAGE ? { dockerImage: (f.dockerImage ?? env.DOCKER_IMAGE)! } : {}), ...(caFile ? { tlsCaFile: resolve(caFile) } : {}) })
      io.out(`Runner registered successfully: "${name}" added to ${path}. Start it with: glrun runner --config ${path}`)
      setExit(0)
    })

  program.command('verify')
    .description('check that GitLab still knows every runner of config.toml')
    .option('--config <config.toml>', 'the runner configuration')
    .option('--delete', 'remove the runners GitLab no longer knows from config.toml')
    .action(async (f: { config?: string; delete?: boolean }) => {
      const path = resolve(f.config ?? defaultConfigPath())
      if (!existsSync(path)) throw new GlrunError('GLRUN_CONFIG_MISSING', `${path} does not exist`, { hint: 'Register a runner first (glrun register), or pass --config.' })
      const { config } = loadRunnerConfig(path)
      const gone = new Set<string>()
      let failed = false
      for (const r of config.runners.filter((x) => x.url && x.token)) {
        const caPem = caOf(r.tlsCaFile)
        try {
          const a = await new RunnerApi({ url: r.url!, ...(caPem ? { caPem } : {}) }).verify(r.token!, `s_glrun${hostname().replace(/[^a-z0-9]/gi, '').slice(0, 12)}`, info(r.name, r.executor))
          if (a.status === 200) io.out(`Verifying runner... is valid   runner=${r.name}`)
          else if (a.status === 403) {
            io.out(`Verifying runner... is not valid   runner=${r.name}`)
            gone.add(r.token!)
          } else {
            io.out(`Verifying runner... GitLab answered ${a.status}   runner=${r.name}`)
            failed = true
          }
        } catch (e) {
          const u = unreachable(r.url!, e, r.tlsCaFile)
          io.err(`error[${u.code}]: runner=${r.name}: ${u.message}${u.hint ? `\n  hint: ${u.hint}` : ''}`)
          failed = true
        }
      }
      if (f.delete && gone.size) io.out(`Removed ${removeRunners(path, gone)} runner(s) from ${path}`)
      setExit(failed || (gone.size > 0 && !f.delete) ? 1 : 0)
    })

  program.command('unregister')
    .description('delete runners in GitLab and remove them from config.toml')
    .option('--config <config.toml>', 'the runner configuration')
    .option('--name <name>', 'the runner to unregister')
    .option('--all-runners', 'every runner of the file')
    .action(async (f: { config?: string; name?: string; allRunners?: boolean }) => {
      const path = resolve(f.config ?? defaultConfigPath())
      const { config } = loadRunnerConfig(path)
      const chosen = config.runners.filter((r) => r.token && (f.allRunners || r.name === f.name))
      if (chosen.length === 0) throw new GlrunError('GLRUN_UNREGISTER_NONE', f.name ? `no runner named "${f.name}" in ${path}` : 'unregister needs --name or --all-runners', { hint: `Runners in the file: ${config.runners.map((r) => r.name).join(', ') || 'none'}.` })
      const removed = new Set<string>()
      for (const r of chosen) {
        const caPem = caOf(r.tlsCaFile)
        const a = await new RunnerApi({ url: r.url ?? '', ...(caPem ? { caPem } : {}) }).unregister(r.token!).catch((e: unknown) => { throw unreachable(r.url ?? '', e, r.tlsCaFile) })
        // 403: GitLab no longer knows it; the entry goes either way.
        if (a.status === 204 || a.status === 403) removed.add(r.token!)
        io.out(`Unregistering runner "${r.name}"... ${a.status === 204 ? 'succeeded' : a.status === 403 ? 'GitLab no longer knew it' : `GitLab answered ${a.status}`}`)
      }
      removeRunners(path, removed)
      setExit(removed.size === chosen.length ? 0 : 1)
    })
}
