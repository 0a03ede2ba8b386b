import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { GlrunError } from '../../diagnostics/errors.js'

export interface EngineAddress {
  /** DOCKER_HOST form: unix:///path or tcp://host:port (config `host`, else $DOCKER_HOST). */
  host?: string
  tlsVerify?: boolean
  /** Directory with ca.pem, cert.pem, key.pem (config `tls_cert_path`, else $DOCKER_CERT_PATH). */
  tlsCertPath?: string
}

/** Where the engine is, as a human reads it (for messages). */
export function engineLabel(a: EngineAddress): string {
  return a.host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
}

/**
 * A client for the Docker Engine API at `a` (DOCKER_HOST semantics: unix and tcp, TLS when asked).
 * dockerode is loaded on first use, so commands that never touch Docker do not pay for it.
 */
export async function connectEngine(a: EngineAddress): Promise<Docker> {
  // require, not import(): the bundled CLI runs in a vm.Script, which has no dynamic import.
  const Dockerode = createRequire(import.meta.url)('dockerode') as typeof import('dockerode')
  const host = engineLabel(a)
  if (host.startsWith('unix://')) return new Dockerode({ socketPath: host.slice('unix://'.length) })
  if (host.startsWith('/')) return new Dockerode({ socketPath: host })
  const m = /^(?:tcp|https?):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(host)
  if (!m) {
    throw new GlrunError('GLRUN_DOCKER_HOST', `the Docker host "${host}" is not an address glrun can use`, {
      hint: 'Use unix:///var/run/docker.sock or tcp://HOST:PORT in [runners.docker] host or $DOCKER_HOST.',
    })
  }
  const tls = a.tlsVerify ?? (process.env.DOCKER_TLS_VERIFY !== undefined && process.env.DOCKER_TLS_VERIFY !== '' && process.env.DOCKER_TLS_VERIFY !== '0')
  if (!tls) return new Dockerode({ host: m[1], port: Number(m[2]), protocol: 'http' })
  const dir = a.tlsCertPath ?? process.env.DOCKER_CERT_PATH ?? join(homedir(), '.docker')
  const read = (f: string): Buffer => {
    try {
      return readFileSync(join(dir, f))
    } catch {
      throw new GlrunError('GLRUN_DOCKER_TLS_FILES', `TLS is on for the Docker host ${host} but ${join(dir, f)} cannot be read`, {
        hint: 'Put ca.pem, cert.pem and key.pem in tls_cert_path (or $DOCKER_CERT_PATH), or turn tls_verify off.',
      })
    }
  }
  return new Dockerode({ host: m[1], port: Number(m[2]), protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') })
}

/** The engine did not answer: one clear error with what to check. */
export function engineUnreachable(a: EngineAddress, e: unknown): GlrunError {
  const why = e instanceof Error ? e.message : String(e)
  return new GlrunError('GLRUN_DOCKER_UNREACHABLE', `cannot talk to the Docker engine at ${engineLabel(a)}: ${why}`, {
    hint: 'Start dockerd (or Docker Desktop), or point DOCKER_HOST / [runners.docker] host at a running engine; `docker version` must show a Server.',
  })
}
