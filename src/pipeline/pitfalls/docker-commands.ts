import type { ScriptLine } from './job-facts.js'
import { programs } from './shell-commands.js'

/**
 * Which script lines use a Docker daemon, and which choose the daemon themselves (so the YAML's
 * DOCKER_HOST is not the whole story and the dind checks must keep quiet).
 */

/** docker subcommands that work without a daemon (or may use a remote builder: buildx). */
const CLIENT_ONLY = new Set(['help', '--help', '-h', '--version', '-v', 'manifest', 'context', 'login', 'logout', 'buildx', 'trust', 'completion'])
/** docker-compose / docker compose subcommands that only read files. */
const COMPOSE_CLIENT_ONLY = new Set(['config', 'version', '--version', '-v', 'help', '--help', '-h', 'convert'])
/** Global docker options that take a value. */
const VALUE_OPTIONS = new Set(['--config', '-c', '--context', '-H', '--host', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey'])
const ENDPOINT_OPTIONS = new Set(['-c', '--context', '-H', '--host'])
/** docker-compose / docker compose options that take a value. */
const COMPOSE_VALUE_OPTIONS = new Set(['-f', '--file', '-p', '--project-name', '--env-file', '--profile', '--project-directory', '--ansi', '--parallel', '--progress', '-H', '--host', '--context', '-c'])

/** The subcommand of a compose call: the first word that is neither an option nor its value. */
function composeSubcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (!args[i]!.startsWith('-')) return args[i]!
    if (COMPOSE_VALUE_OPTIONS.has(args[i]!)) i++
  }
  return args[0] ?? ''
}

interface DockerCall {
  /** `docker build`, `docker compose up`, `docker-compose up`. */
  readonly display: string
  readonly needsDaemon: boolean
  /** The call picks its daemon itself (-H/--host/--context). */
  readonly choosesEndpoint: boolean
}

function dockerCalls(text: string): DockerCall[] {
  const out: DockerCall[] = []
  for (const { program, args } of programs(text)) {
    if (program === 'docker-compose') {
      const sub = composeSubcommand(args)
      out.push({ display: `docker-compose ${sub}`.trim(), needsDaemon: !COMPOSE_CLIENT_ONLY.has(sub) && sub !== '', choosesEndpoint: args.some((a) => a === '-H' || a.startsWith('--host')) })
      continue
    }
    if (program !== 'docker') continue
    let i = 0
    let choosesEndpoint = false
    while (i < args.length && args[i]!.startsWith('-') && !CLIENT_ONLY.has(args[i]!)) {
      const opt = args[i]!.split('=')[0]!
      if (ENDPOINT_OPTIONS.has(opt)) choosesEndpoint = true
      i += VALUE_OPTIONS.has(args[i]!) ? 2 : 1
    }
    const sub = args[i] ?? ''
    const compose = sub === 'compose' ? composeSubcommand(args.slice(i + 1)) : undefined
    out.push({
      display: `docker ${sub}${compose ? ` ${compose}` : ''}`,
      needsDaemon: sub !== '' && !CLIENT_ONLY.has(sub) && (compose === undefined || (compose !== '' && !COMPOSE_CLIENT_ONLY.has(compose))),
      choosesEndpoint,
    })
  }
  return out
}

/** The first line that runs a docker command needing the daemon, and that command. */
export function firstDaemonCommand(lines: readonly ScriptLine[]): { line: ScriptLine; command: string } | undefined {
  for (const line of lines) {
    const call = dockerCalls(line.text).find((c) => c.needsDaemon)
    if (call) return { line, command: call.display }
  }
  return undefined
}

/**
 * True when the script decides where the daemon is: it sets or unsets DOCKER_HOST or
 * DOCKER_TLS_CERTDIR, passes -H/--context to docker, switches `docker context`, or starts
 * dockerd itself.
 */
export function scriptChoosesDaemon(lines: readonly ScriptLine[]): boolean {
  return lines.some((line) =>
    /(?:^|[\s;&|(])(?:export\s+)?DOCKER_(?:HOST|TLS_CERTDIR)=|\bunset\s+(?:-v\s+)?DOCKER_(?:HOST|TLS_CERTDIR)\b/.test(line.text) ||
    programs(line.text).some((p) => p.program === 'dockerd' || p.program.endsWith('/dockerd') || p.program === 'dockerd-entrypoint.sh') ||
    dockerCalls(line.text).some((c) => c.choosesEndpoint || c.display === 'docker context'))
}
