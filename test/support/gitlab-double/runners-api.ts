import { randomBytes, timingSafeEqual } from 'node:crypto'
import { type RouteContext, parseParams, readBody, reply, replyMessage, replyMissing, str } from './http-io.js'
import type { DoubleRunner } from './types.js'

/**
 * The runner-management endpoints (server note §2): legacy registration, verify, unregister,
 * unregister a manager, token reset. The runner token is read from the `token` param only
 * (GitLab's `current_runner`), never from the `Runner-Token` header.
 */

/** Reads params; answers 400 and returns null when the body is unparsable or `token` is missing. */
async function runnerParams(ctx: RouteContext): Promise<{ params: Record<string, unknown>; token: string } | null> {
  const params = parseParams(ctx, await readBody(ctx))
  ctx.record.params = params
  if (!params) {
    reply(ctx, 400, { error: 'body is not valid JSON' })
    return null
  }
  const token = str(params['token'])
  if (!token) {
    replyMissing(ctx, 'token')
    return null
  }
  return { params, token }
}

/** `authenticate_runner!`: 403 for an unknown token; heartbeats the runner manager keyed by `system_id`. */
export function authenticateRunner(ctx: RouteContext, token: string, params: Record<string, unknown>, ensureManager = true): DoubleRunner | null {
  const runner = ctx.state.runners.get(token)
  if (!runner) {
    replyMessage(ctx, 403, '403 Forbidden')
    return null
  }
  if (params['info'] !== undefined) runner.lastInfo = params['info']
  if (ensureManager) {
    const systemId = str(params['system_id']) ?? '<legacy>'
    const m = runner.managers.get(systemId)
    runner.managers.set(systemId, { systemId, info: params['info'] ?? m?.info ?? null, contactedAt: Date.now() })
  }
  return runner
}

const details = (r: DoubleRunner): Record<string, unknown> => ({ id: r.id, token: r.token, token_expires_at: null })

const sameToken = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** `POST /runners` with a registration token (Ci::Runners::RegisterRunnerService). */
export async function registerRunner(ctx: RouteContext): Promise<void> {
  const got = await runnerParams(ctx)
  if (!got) return
  const { params, token } = got
  const opts = ctx.state.options
  if (!sameToken(token, opts.registrationToken)) {
    replyMessage(ctx, 403, '403 Forbidden')
    return
  }
  if (opts.registrationDisabled) {
    replyMessage(ctx, 410, '410 Gone - runner registration disallowed')
    return
  }
  // Grape's mutually_exclusive and values: validations.
  if (params['paused'] !== undefined && params['active'] !== undefined) {
    reply(ctx, 400, { error: 'paused, active are mutually exclusive' })
    return
  }
  if (params['maintenance_note'] !== undefined && params['maintainer_note'] !== undefined) {
    reply(ctx, 400, { error: 'maintainer_note, maintenance_note are mutually exclusive' })
    return
  }
  const access = params['access_level']
  if (access !== undefined && access !== 'not_protected' && access !== 'ref_protected') {
    reply(ctx, 400, { error: 'access_level does not have a valid value' })
    return
  }
  const tags = params['tag_list']
  const tagList = Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' ? tags.split(',').map((t) => t.trim()).filter(Boolean) : []
  const paused = params['paused'] === true || params['paused'] === 'true' || params['active'] === false || params['active'] === 'false'
  // Legacy-registered runners get a token without the `glrt-` prefix of UI-created ones.
  const runner = ctx.state.addRunner({ token: randomBytes(10).toString('hex'), paused, registration: params, tagList })
  if (params['info'] !== undefined) runner.lastInfo = params['info']
  reply(ctx, 201, details(runner))
}

/** `POST /runners/verify`: 200 with the registration details (newer GitLab), 403 for an unknown token. */
export async function verifyRunner(ctx: RouteContext): Promise<void> {
  const got = await runnerParams(ctx)
  if (!got) return
  const runner = authenticateRunner(ctx, got.token, got.params)
  if (runner) reply(ctx, 200, details(runner))
}

/** `DELETE /runners`: 204, the runner and its token are gone. */
export async function unregisterRunner(ctx: RouteContext): Promise<void> {
  const got = await runnerParams(ctx)
  if (!got) return
  if (!authenticateRunner(ctx, got.token, got.params, false)) return
  ctx.state.revokeRunner(got.token)
  reply(ctx, 204, undefined)
}

/** `DELETE /runners/managers`: 204, or 404 when no manager has that `system_id`. */
export async function unregisterManager(ctx: RouteContext): Promise<void> {
  const got = await runnerParams(ctx)
  if (!got) return
  const systemId = str(got.params['system_id'])
  if (!systemId) {
    replyMissing(ctx, 'system_id')
    return
  }
  const runner = authenticateRunner(ctx, got.token, got.params, false)
  if (!runner) return
  if (!runner.managers.delete(systemId)) {
    replyMessage(ctx, 404, '404 Runner manager not found')
    return
  }
  reply(ctx, 204, undefined)
}

/** `POST /runners/reset_authentication_token`: 201 with a new token; the old one is dead at once. */
export async function resetRunnerToken(ctx: RouteContext): Promise<void> {
  const got = await runnerParams(ctx)
  if (!got) return
  const runner = authenticateRunner(ctx, got.token, got.params, false)
  if (!runner) return
  ctx.state.runners.delete(runner.token)
  runner.token = `glrt-${randomBytes(10).toString('hex')}`
  ctx.state.runners.set(runner.token, runner)
  reply(ctx, 201, { token: runner.token, token_expires_at: null })
}
