import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { GlrunError, GlrunErrors } from '../../diagnostics/errors.js'
import { unmaskableError, unmaskableReason } from './maskable.js'
import { gitMaybe, gitSync } from './git.js'
import { predefinedVariables } from './predefined.js'
import { parseRemote } from './remote-url.js'
import type { PipelineContext, PipelineVariable } from './types.js'
import { readVariablesFile } from './variables-file.js'

export { slugify } from './slug.js'

export interface ContextOptions {
  /** Any directory inside the repository; the project dir is the work tree's root. */
  cwd: string
  /** CI_PIPELINE_SOURCE; default `push` (or the CI_PIPELINE_SOURCE the user set). */
  pipelineSource?: string
  /** Pretend the checked-out commit is on this branch (or tag, when a tag of that name exists). */
  ref?: string
  variables?: Record<string, string>
  maskedVariables?: Record<string, string>
  /** Default: <projectDir>/.glrun/variables.yml when it exists. */
  variablesFile?: string
  pipelineId?: number
  /** The pipeline's creation time; default: SOURCE_DATE_EPOCH when set (reproducible output), else now. */
  now?: () => Date
  /**
   * Accept a repository with no commit yet (lint, list, compile are about the file, like GitLab's
   * CI Lint on pasted content): the commit is then the zero SHA and every `rules:changes` is
   * true, as for a pipeline with nothing to compare. Only running a pipeline needs a commit.
   */
  commitOptional?: boolean
}

const ZERO_SHA = '0000000000000000000000000000000000000000'

/** Sources with no push to compare against: `rules:changes` is then always true (GitLab). */
const NO_PUSH_CONTEXT = new Set(['schedule', 'web', 'api', 'trigger', 'pipeline', 'parent_pipeline', 'chat', 'webide', 'external', 'ondemand_dast_scan', 'ondemand_dast_validation', 'security_orchestration_policy'])

/**
 * Reads the git repository around `cwd` (four git calls, run in parallel) and builds what GitLab
 * would know about the pipeline: commit, ref, project (from the `origin` remote), user, and the
 * predefined variables.
 */
export async function loadPipelineContext(opts: ContextOptions): Promise<PipelineContext> {
  const FMT = ['%H', '%P', '%an', '%ae', '%cI', '%B'].join('%x00')
  const [top, head, log, config, refs] = await Promise.all([
    gitMaybe(opts.cwd, ['rev-parse', '--show-toplevel']),
    gitMaybe(opts.cwd, ['symbolic-ref', '-q', '--short', 'HEAD']),
    gitMaybe(opts.cwd, ['log', '-1', `--format=${FMT}`, 'HEAD']),
    gitMaybe(opts.cwd, ['config', '--get-regexp', '^(user\\.name|user\\.email|remote\\.origin\\.url)$']),
    gitMaybe(opts.cwd, ['for-each-ref', '--format=%(refname) %(symref)', 'refs/remotes/origin/HEAD', 'refs/heads/main', 'refs/heads/master']),
  ])
  if (top === undefined) {
    throw new GlrunError('GLRUN_NOT_A_GIT_REPO', `${opts.cwd} is not inside a git repository`, {
      hint: 'Run glrun inside your project (a git work tree), pass --cwd, or create one with `git init && git add -A && git commit -m init`.',
    })
  }
  const projectDir = top.trim()
  const noCommit = log === undefined || log.trim() === ''
  if (noCommit && !opts.commitOptional) {
    throw new GlrunError('GLRUN_NO_COMMIT', `the repository ${projectDir} has no commit yet, and a pipeline runs for a commit`, {
      hint: 'Commit your files first (`git add -A && git commit -m init`); `glrun lint`, `list` and `compile` work before the first commit.',
    })
  }
  const [sha = '', parents = '', authorName = '', authorEmail = '', committedAt = '', ...rest] = noCommit ? [ZERO_SHA] : log.split('\0')
  const message = rest.join('\0').replace(/\s+$/, '')
  const cfg = parseConfig(config ?? '')

  const userVariables = collectUserVariables(projectDir, opts)
  const user = new Map(userVariables.map((v) => [v.key, v.value]))

  const remote = cfg.get('remote.origin.url')
  const info = remote ? parseRemote(remote) : undefined
  const projectPath = info?.projectPath ?? `local/${basename(projectDir)}`
  const serverUrl = info?.serverUrl ?? 'https://gitlab.example.com'

  const branch = head?.trim() || undefined
  const defaultBranch = user.get('CI_DEFAULT_BRANCH') ?? detectDefaultBranch(refs ?? '', branch)
  let ref: string
  let refType: 'branch' | 'tag'
  const wanted = opts.ref ?? user.get('CI_COMMIT_TAG') ?? user.get('CI_COMMIT_BRANCH') ?? user.get('CI_COMMIT_REF_NAME')
  if (wanted !== undefined) {
    ref = wanted
    refType = await isTagName(projectDir, wanted, user) ? 'tag' : 'branch'
  } else if (branch) {
    ref = branch
    refType = 'branch'
  } else {
    // Detached HEAD: a tag checkout is a tag pipeline; otherwise GitLab would not run it at all,
    // so glrun names the ref after the default branch rather than inventing one.
    const tag = (await gitMaybe(projectDir, ['tag', '--points-at', 'HEAD']))?.split('\n').find(Boolean)
    if (tag) {
      ref = tag
      refType = 'tag'
    } else {
      ref = defaultBranch
      refType = 'branch'
    }
  }
  const pipelineSource = opts.pipelineSource ?? user.get('CI_PIPELINE_SOURCE') ?? 'push'
  const firstParent = parents.split(' ').find(Boolean)
  const beforeSha = refType === 'tag' || pipelineSource === 'merge_request_event' ? ZERO_SHA : firstParent ?? ZERO_SHA
  const now = opts.now?.() ?? sourceDateEpoch() ?? new Date()
  const pipelineId = opts.pipelineId ?? 1
  const login = (authorEmail && cfg.get('user.email') === authorEmail ? authorEmail : cfg.get('user.email') ?? '')
    .split('@')[0]!.toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'glrun'
  const registryHost = info ? `registry.${info.host}` : 'registry.gitlab.example.com'

  const base = {
    projectDir, sha, beforeSha, ref, refType, defaultBranch, pipelineSource, projectPath,
    projectName: projectPath.split('/').at(-1)!,
    projectNamespace: projectPath.split('/').slice(0, -1).join('/'),
    serverUrl,
    repoUrl: `${serverUrl}/${projectPath}.git`,
    pipelineId, pipelineIid: pipelineId, projectId: 1, userId: 1,
  }
  const predefined = predefinedVariables({
    ...base,
    host: info?.host ?? 'gitlab.example.com',
    port: info?.port ?? 443,
    protocol: info?.protocol ?? 'https',
    registry: registryHost,
    message, authorName, authorEmail, committedAt,
    userLogin: login,
    userName: cfg.get('user.name') ?? authorName,
    userEmail: cfg.get('user.email') ?? authorEmail,
    createdAt: now,
  })

  const changes = new Map<string, readonly string[] | null>()
  let tree: readonly string[] | undefined
  return {
    ...base,
    predefined,
    userVariables,
    changedFiles(compareTo?: string) {
      // No commit: nothing to compare with (a compare_to ref cannot exist either, and says so).
      if (noCommit && compareTo === undefined) return null
      const key = compareTo ?? ''
      if (!changes.has(key)) changes.set(key, computeChanges(projectDir, sha, beforeSha, refType, pipelineSource, defaultBranch, compareTo))
      return changes.get(key)!
    },
    treeFiles() {
      tree ??= gitSync(projectDir, ['ls-files', '-co', '--exclude-standard', '-z']).split('\0').filter(Boolean)
      return tree
    },
  }
}

/** A ref given by the user is a tag when they said CI_COMMIT_TAG, or when only a tag has that name. */
async function isTagName(dir: string, name: string, user: Map<string, string>): Promise<boolean> {
  if (user.get('CI_COMMIT_TAG') === name) return true
  if (user.has('CI_COMMIT_BRANCH')) return false
  const [tag, branch] = await Promise.all([
    gitMaybe(dir, ['show-ref', '--verify', '-q', `refs/tags/${name}`]),
    gitMaybe(dir, ['show-ref', '--verify', '-q', `refs/heads/${name}`]),
  ])
  return tag !== undefined && branch === undefined
}

function parseConfig(text: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ')
    if (sp > 0) m.set(line.slice(0, sp), line.slice(sp + 1))
  }
  return m
}

function detectDefaultBranch(refs: string, current: string | undefined): string {
  for (const line of refs.split('\n')) {
    const [name, target] = line.split(' ')
    if (name === 'refs/remotes/origin/HEAD' && target) return target.replace(/^refs\/remotes\/origin\//, '')
  }
  if (refs.includes('refs/heads/main')) return 'main'
  if (refs.includes('refs/heads/master')) return 'master'
  return current ?? 'main'
}

function sourceDateEpoch(): Date | undefined {
  const s = process.env['SOURCE_DATE_EPOCH']
  return s && /^\d+$/.test(s) ? new Date(Number(s) * 1000) : undefined
}

function collectUserVariables(projectDir: string, opts: ContextOptions): PipelineVariable[] {
  const file = opts.variablesFile ?? join(projectDir, '.glrun', 'variables.yml')
  const fromFile = opts.variablesFile !== undefined ? readVariablesFile(file) : existsSync(file) ? readVariablesFile(file, projectDir) : []
  const out = new Map<string, PipelineVariable>()
  for (const v of fromFile) out.set(v.key, v)
  for (const [key, value] of Object.entries(opts.variables ?? {})) out.set(key, { key, value })
  const refused: GlrunError[] = []
  for (const [key, value] of Object.entries(opts.maskedVariables ?? {})) {
    const reason = unmaskableReason(value)
    if (reason) refused.push(unmaskableError(key, reason, '--masked-variable'))
    else out.set(key, { key, value, masked: true })
  }
  if (refused.length > 0) throw new GlrunErrors(refused)
  return [...out.values()]
}

/**
 * The files this pipeline's push changed, for `rules:changes`. Local runs also count the
 * working tree's uncommitted and untracked changes: the user runs the pipeline on the tree as
 * it is, so a rule about `src/**` should see the file they just edited.
 */
function computeChanges(projectDir: string, sha: string, beforeSha: string, refType: string, source: string, defaultBranch: string, compareTo: string | undefined): readonly string[] | null {
  let base: string | undefined
  if (compareTo !== undefined) {
    try {
      base = gitSync(projectDir, ['rev-parse', '--verify', '-q', `${compareTo}^{commit}`]).trim()
    } catch {
      throw new GlrunError('GLRUN_COMPARE_TO_UNKNOWN', `rules:changes:compare_to refers to "${compareTo}", which is not a branch, tag or commit of this repository`, {
        hint: 'Use an existing ref (e.g. the default branch), or fetch it first (`git fetch origin <ref>`).',
      })
    }
  } else if (source === 'merge_request_event') {
    base = gitSync(projectDir, ['merge-base', sha, defaultBranch]).trim()
  } else {
    if (refType === 'tag' || NO_PUSH_CONTEXT.has(source) || /^0+$/.test(beforeSha)) return null
    base = beforeSha
  }
  const committed = gitSync(projectDir, ['diff', '--name-only', '-z', base, sha]).split('\0').filter(Boolean)
  const local = gitSync(projectDir, ['status', '--porcelain=v1', '-z', '--untracked-files=all']).split('\0')
    .filter((e) => e.length > 3 && e[2] === ' ').map((e) => e.slice(3))
  return [...new Set([...committed, ...local])]
}
