import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan, SourceTexts } from '../../diagnostics/source.js'
import { isPlainObject } from '../model/keywords.js'
import { deepMerge } from '../normalize/deep-merge.js'
import { expandExisting } from '../variables/expand.js'
import { loadYaml, setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf, valueSpan } from '../yaml/positions.js'
import { type LocatedEntry, readEntries } from './entries.js'
import {
  type GitLabAccess, IncludeFetchError, type Origin, checkIntegrity, componentCandidates, fetchProjectFile, fetchRemote,
  fetchTemplate, insideRoot, localFiles, parseComponent,
} from './fetch.js'
import { interpolate, resolveInputs } from './inputs.js'
import { keepGlrunOutOfGit } from '../../support/git-exclude.js'
import { readSourceFile } from '../../support/read-source-file.js'

export interface IncludeOptions {
  projectDir: string
  file?: string
  vars: (name: string) => string | undefined
  includeRulesMatch?: (rules: unknown) => boolean
  /** 'group/proj' → a local checkout, for include:project and components of that project. */
  projectMap?: Record<string, string>
  templatesDir?: string
  gitlab?: GitLabAccess
  remoteCacheDir?: string
  fetch?: typeof globalThis.fetch
  inputs?: Record<string, unknown>
  sources: SourceTexts
  maxIncludes?: number
  /** The most bytes of included YAML (default MAX_TOTAL_YAML_BYTES, GitLab's setting). */
  maxTotalBytes?: number
  /** Text of a virtual root (a child pipeline made of several `trigger:include` files). */
  rootText?: string
}

export interface ResolvedConfig {
  config: Record<string, unknown>
  files: string[]
  errors: GlrunError[]
  warnings: GlrunError[]
}

/** GitLab's default "Maximum includes" instance setting. */
export const MAX_INCLUDES = 150

/**
 * GitLab's default `ci_max_total_yaml_size_bytes` (2 MiB × 150 since 17.3): the included files'
 * texts together may not be larger (the root file does not count, as in GitLab).
 */
export const MAX_TOTAL_YAML_BYTES = 2 * 1024 * 1024 * 150

interface State {
  opts: IncludeOptions
  errors: GlrunError[]
  warnings: GlrunError[]
  files: string[]
  count: number
  limitReported: boolean
  totalBytes: number
}

/**
 * Reads the root config and every include, recursively, and merges them as GitLab does: each
 * included file is deep-merged under the file that includes it, later includes win over earlier
 * ones, and the including file has the last word. Problems are collected, never thrown.
 */
export async function resolveConfig(opts: IncludeOptions): Promise<ResolvedConfig> {
  const st: State = { opts, errors: [], warnings: [], files: [], count: 0, limitReported: false, totalBytes: 0 }
  const file = opts.file ?? '.gitlab-ci.yml'
  let text: string
  try {
    text = opts.rootText ?? readSourceFile(join(opts.projectDir, file), { display: file, root: opts.projectDir })
  } catch (e) {
    if (!(e instanceof GlrunError)) throw e
    return { config: {}, files: [], errors: [e], warnings: [] }
  }
  const config = await processText(st, text, file, { kind: 'local', root: opts.projectDir }, opts.inputs, undefined, [file])
  return { config: config ?? {}, files: st.files, errors: st.errors, warnings: st.warnings }
}

/** Parses one file (header spec + body), interpolates inputs, and resolves its includes. */
async function processText(st: State, text: string, name: string, origin: Origin, inputs: Record<string, unknown> | undefined, where: SourceSpan | undefined, chain: string[]): Promise<Record<string, unknown> | undefined> {
  st.files.push(name)
  st.opts.sources.add(name, text)
  const loaded = loadYaml(text, name)
  st.warnings.push(...loaded.warnings)
  if (loaded.errors.length > 0) {
    st.errors.push(...loaded.errors)
    return undefined
  }
  const docs = loaded.documents.map((d) => d.value)
  let header: unknown
  let body: unknown = docs[0] ?? {}
  if (docs.length > 1 && isPlainObject(docs[0]) && Object.keys(docs[0]).every((k) => k === 'spec')) {
    header = docs[0]['spec']
    body = docs[1] ?? {}
  }
  if (body === null || body === undefined) body = {}
  if (!isPlainObject(body)) {
    st.errors.push(new GlrunError('GLRUN_CONFIG_NOT_HASH', `${name}: the configuration must be a mapping of keywords and jobs`, {
      where: loaded.documents[0]?.span ?? { file: name, line: 1, col: 1 }, hint: 'A .gitlab-ci.yml is a YAML mapping such as `job: { script: [...] }`.',
    }))
    return undefined
  }
  if (header !== undefined || inputs !== undefined) {
    const before = st.errors.length
    const values = resolveInputs(header, inputs, name, where, st.errors)
    // As GitLab's Interpolator: invalid inputs stop interpolation, so a rejected input is one
    // error, not also an "unknown interpolation key" at every place it is used.
    if (st.errors.length === before) body = interpolate(body, values, st.opts.vars, name, st.errors) as Record<string, unknown>
  }
  const config = body as Record<string, unknown>
  const include = config['include']
  if (include === undefined || include === null) return config
  let merged: Record<string, unknown> = {}
  for (const entry of readEntries(include, valueSpan(config, 'include'))) {
    const part = await processEntry(st, entry, origin, chain)
    for (const p of part) merged = deepMerge(merged, p)
  }
  return deepMerge(merged, withoutInclude(config))
}

function withoutInclude(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  inheritSelf(config, out)
  for (const k of Object.keys(config)) {
    if (k === 'include') continue
    setOwn(out, k, config[k])
    copyMember(config, out, k)
  }
  return out
}

async function processEntry(st: State, located: LocatedEntry, origin: Origin, chain: string[]): Promise<Record<string, unknown>[]> {
  const { entry, where, label } = located
  const fail = (code: string, message: string, hint: string): never[] => {
    st.errors.push(new GlrunError(code, message, { where, hint }))
    return []
  }
  if (located.rules !== undefined && st.opts.includeRulesMatch && !st.opts.includeRulesMatch(located.rules)) return []
  const expand = (s: string): string => expandExisting(s, st.opts.vars)
  const doFetch = st.opts.fetch ?? globalThis.fetch
  const out: Record<string, unknown>[] = []
  const load = async (text: string, name: string, next: Origin): Promise<void> => {
    if (chain.includes(name)) {
      fail('GLRUN_INCLUDE_CYCLE', `include of \`${name}\` loops: ${[...chain, name].join(' → ')}`, 'Remove one of the includes in this chain.')
      return
    }
    if (++st.count > (st.opts.maxIncludes ?? MAX_INCLUDES)) {
      if (!st.limitReported) fail('GLRUN_INCLUDE_LIMIT', `Maximum of ${st.opts.maxIncludes ?? MAX_INCLUDES} nested includes are allowed!`, 'Reduce the number of included files (every inclusion counts, also repeated ones).')
      st.limitReported = true
      return
    }
    st.totalBytes += Buffer.byteLength(text)
    const maxTotal = st.opts.maxTotalBytes ?? MAX_TOTAL_YAML_BYTES
    if (st.totalBytes > maxTotal) {
      if (!st.limitReported) fail('GLRUN_INCLUDE_TOO_BIG', 'Total size of combined CI/CD configuration is too big', `GitLab allows ${maxTotal} bytes of included YAML in one pipeline (ci_max_total_yaml_size_bytes); include fewer or smaller files.`)
      st.limitReported = true
      return
    }
    const cfg = await processText(st, text, name, next, located.inputs, where, [...chain, name])
    if (cfg) out.push(cfg)
  }
  try {
    switch (entry.kind) {
      case 'invalid':
        return fail('GLRUN_INCLUDE_INVALID', `Include \`${entry.what}\` is not a valid include: use local, project, remote, template or component`, 'See https://docs.gitlab.com/ci/yaml/#include')
      case 'local': {
        const path = expand(entry.path)
        if (origin.kind === 'remote' || origin.kind === 'template') {
          return fail('GLRUN_INCLUDE_LOCAL_IN_REMOTE', `Local file \`${path}\` cannot be included from a remote file or template`, 'Use include:remote or include:project for the nested file.')
        }
        if (origin.kind === 'project') {
          for (const f of await projectFiles(st, origin.project, origin.ref, [path], origin.root, label)) await load(f.text, f.name, origin)
          break
        }
        const files = localFiles(origin.root, path)
        if (files.length === 0) {
          return fail('GLRUN_INCLUDE_LOCAL_MISSING', path.includes('*') ? `Included file \`${path}\` does not match any files` : `Local file \`${path.replace(/^\/+/, '')}\` does not exist!`, 'Paths of include:local are relative to the project root.')
        }
        for (const f of files) await load(readSourceFile(insideRoot(origin.root, f), { display: f, root: origin.root }), f, origin)
        break
      }
      case 'project': {
        const project = expand(entry.project)
        const ref = entry.ref === undefined ? undefined : expand(entry.ref)
        const root = st.opts.projectMap?.[project]
        for (const f of await projectFiles(st, project, ref, entry.files.map(expand), root, label)) await load(f.text, f.name, { kind: 'project', project, ...(ref ? { ref } : {}), ...(root ? { root } : {}) })
        break
      }
      case 'remote': {
        const url = expand(entry.url)
        const cacheDir = st.opts.remoteCacheDir ?? join(st.opts.projectDir, '.glrun', 'cache', 'includes')
        if (!st.opts.remoteCacheDir) keepGlrunOutOfGit(st.opts.projectDir)
        const text = await fetchRemote(url, cacheDir, doFetch, (msg) => st.warnings.push(new GlrunError('GLRUN_INCLUDE_STALE', msg, { where, severity: 'warning' })))
        if (entry.integrity) checkIntegrity(text, entry.integrity, url)
        await load(text, url, { kind: 'remote' })
        break
      }
      case 'template': {
        const name = expand(entry.name)
        if (st.opts.templatesDir && existsSync(join(st.opts.templatesDir, name))) {
          await load(readSourceFile(insideRoot(st.opts.templatesDir, name), { display: `template:${name}`, root: st.opts.templatesDir }), `template:${name}`, { kind: 'template' })
        } else if (st.opts.gitlab) {
          await load(await fetchTemplate(st.opts.gitlab, name, doFetch), `template:${name}`, { kind: 'template' })
        } else {
          return fail('GLRUN_INCLUDE_UNRESOLVABLE', `include:template \`${name}\` needs GitLab's template library, which glrun cannot reach in this run`, `Give a directory of templates with --templates-dir DIR (containing ${name}), or a GitLab instance with --gitlab-url URL [--gitlab-token TOKEN].`)
        }
        break
      }
      case 'component': {
        const ref = expand(entry.ref)
        const c = parseComponent(ref)
        if (!c) return fail('GLRUN_INCLUDE_INVALID', `include:component \`${ref}\` is not of the form <host>/<project path>/<component>@<version>`, 'For example: gitlab.com/components/sast/sast@3.4.0')
        const root = st.opts.projectMap?.[c.project]
        if (!root && !st.opts.gitlab) {
          return fail('GLRUN_INCLUDE_UNRESOLVABLE', `include:component \`${ref}\` lives in project ${c.project}, which glrun cannot reach in this run`, `Map the component's project to a local checkout with --include-project ${c.project}=../path/to/checkout, or give a GitLab instance with --gitlab-url URL [--gitlab-token TOKEN].`)
        }
        const version = c.version === '~latest' ? undefined : c.version
        const found = await firstComponentFile(st, c.project, version, c.name, root)
        if (!found) return fail('GLRUN_INCLUDE_COMPONENT_MISSING', `component ${c.name} not found in ${c.project}: looked for ${componentCandidates(c.name).join(' and ')}`, 'Check the component name and version.')
        await load(found.text, found.name, { kind: 'project', project: c.project, ...(version ? { ref: version } : {}), ...(root ? { root } : {}) })
        break
      }
    }
  } catch (e) {
    if (e instanceof IncludeFetchError) return fail(e.code, e.message, e.hint)
    // A file that cannot be read safely (outside the project, not a regular file, too big, not
    // UTF-8): its own place when it has one, else the include entry that named it.
    if (e instanceof GlrunError) {
      st.errors.push(e.where ? e : new GlrunError(e.code, e.message, { where, ...(e.hint ? { hint: e.hint } : {}) }))
      return []
    }
    throw e
  }
  return out

  async function projectFiles(s: State, project: string, ref: string | undefined, files: string[], root: string | undefined, lbl: string): Promise<{ name: string; text: string }[]> {
    const result: { name: string; text: string }[] = []
    for (const file of files) {
      const clean = file.replace(/^\/+/, '')
      const name = `${project}:${clean}`
      if (root) {
        const abs = insideRoot(root, clean)
        if (!existsSync(abs)) {
          fail('GLRUN_INCLUDE_PROJECT_MISSING', `Project \`${project}\` file \`${clean}\` does not exist in the local checkout ${root}`, 'Check the file name, or point --include-project at the right checkout.')
          continue
        }
        result.push({ name, text: readSourceFile(abs, { display: name, root }) })
      } else if (s.opts.gitlab) {
        result.push({ name, text: await fetchProjectFile(s.opts.gitlab, project, clean, ref, doFetch) })
      } else {
        fail('GLRUN_INCLUDE_UNRESOLVABLE', `include:project ${lbl} needs project ${project}, which glrun cannot reach in this run`, `Map it to a local checkout with --include-project ${project}=../path/to/checkout, or give a GitLab instance with --gitlab-url URL [--gitlab-token TOKEN].`)
        break
      }
    }
    return result
  }

  async function firstComponentFile(s: State, project: string, ref: string | undefined, name: string, root: string | undefined): Promise<{ name: string; text: string } | undefined> {
    for (const cand of componentCandidates(name)) {
      if (root) {
        const abs = insideRoot(root, cand)
        if (existsSync(abs)) return { name: `${project}:${cand}`, text: readSourceFile(abs, { display: `${project}:${cand}`, root }) }
      } else if (s.opts.gitlab) {
        try {
          return { name: `${project}:${cand}`, text: await fetchProjectFile(s.opts.gitlab, project, cand, ref, doFetch) }
        } catch {
          // try the next layout
        }
      }
    }
    return undefined
  }
}
