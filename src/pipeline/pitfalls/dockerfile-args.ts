import { existsSync } from 'node:fs'
import { readSourceFile } from '../../support/read-source-file.js'
import { isAbsolute, join, normalize } from 'node:path'
import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceTexts } from '../../diagnostics/source.js'
import type { PlannedJob } from '../plan/types.js'

/**
 * The S2 pitfall, found before anything runs: a job runs `docker build` on a Dockerfile whose
 * `FROM` (or a later instruction) uses a variable the Dockerfile never declares with `ARG`.
 * CI variables are the build command's environment, not the Dockerfile's: such a `FROM`
 * expands to nothing and the build fails with `invalid reference format`. `--build-arg` alone
 * does not help either: Docker only passes build args the Dockerfile declares.
 */
export function dockerfileArgPitfalls(jobs: readonly PlannedJob[], projectDir: string, sources: SourceTexts, ciVariables: ReadonlySet<string>): GlrunError[] {
  const out: GlrunError[] = []
  const seen = new Set<string>()
  for (const job of jobs) {
    for (const build of dockerBuilds(job.commands)) {
      const rel = build.dockerfile
      if (rel.includes('$') || isAbsolute(rel)) continue
      const clean = normalize(rel)
      if (clean.startsWith('..')) continue
      const abs = join(projectDir, clean)
      if (!existsSync(abs) || seen.has(`${clean}\0${build.buildArgs.join(',')}`)) continue
      seen.add(`${clean}\0${build.buildArgs.join(',')}`)
      let text: string
      try {
        text = readSourceFile(abs, { display: clean, root: projectDir })
      } catch {
        continue // a symlink out of the project, a FIFO, a huge file: nothing to advise about
      }
      sources.add(clean, text)
      for (const use of undeclaredUses(text, ciVariables)) {
        const passed = build.buildArgs.includes(use.name)
        out.push(new GlrunError('GLRUN_DOCKERFILE_ARG', `${use.instruction} uses $${use.name}, which the Dockerfile does not declare with ARG${use.instruction === 'FROM' ? ' before FROM' : ''}; job "${job.name}" builds it with docker build, and CI variables are not visible inside a Dockerfile`, {
          where: { file: clean, line: use.line, col: use.col, endLine: use.line, endCol: use.col + use.length },
          severity: 'warning',
          hint: `Declare it${use.instruction === 'FROM' ? ' before the first FROM' : ''}: \`ARG ${use.name}\` (a default is allowed: \`ARG ${use.name}=...\`), and pass it from the job: \`docker build --build-arg ${use.name}=$${use.name} ...\`.${passed ? ' The job already passes --build-arg for it, but Docker ignores build args the Dockerfile does not declare.' : ' --build-arg alone is not enough without the ARG.'}`,
        }))
      }
    }
  }
  return out
}

interface DockerBuild {
  dockerfile: string
  buildArgs: string[]
}

/** `docker build` / `docker buildx build` / `docker image build` invocations in a job's commands. */
export function dockerBuilds(commands: readonly string[]): DockerBuild[] {
  const out: DockerBuild[] = []
  for (const command of commands) {
    const text = command.replace(/\\\n/g, ' ')
    for (const m of text.matchAll(/\bdocker\s+(?:buildx\s+build|image\s+build|build)\b([^;&|\n]*)/g)) {
      const words = m[1]!.trim().split(/\s+/).filter(Boolean)
      let file: string | undefined
      let context: string | undefined
      const buildArgs: string[] = []
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!
        const next = (): string => words[++i] ?? ''
        if (w === '-f' || w === '--file') file = next()
        else if (w.startsWith('--file=')) file = w.slice(7)
        else if (w === '--build-arg') buildArgs.push(next().split('=')[0]!)
        else if (w.startsWith('--build-arg=')) buildArgs.push(w.slice(12).split('=')[0]!)
        else if (/^-(t|-tag|-cache-from|-target|-platform|-label|-network|-secret|-ssh|-output|o|-progress|-iidfile|-add-host)$/.test(w)) next()
        else if (!w.startsWith('-') && context === undefined) context = w
      }
      const dockerfile = file ?? join(context && context !== '-' ? context : '.', 'Dockerfile')
      out.push({ dockerfile: dockerfile.replace(/^["']|["']$/g, ''), buildArgs })
    }
  }
  return out
}

interface Use {
  name: string
  instruction: string
  line: number
  col: number
  length: number
}

/**
 * Variables a Dockerfile uses without declaring them: in FROM, anything not declared by an ARG
 * before the first FROM; after FROM, CI variables not declared by ARG or ENV in that stage
 * (ordinary shell variables of the image, like $PATH, are left alone).
 */
export function undeclaredUses(text: string, ciVariables: ReadonlySet<string>): Use[] {
  const uses: Use[] = []
  const globalArgs = new Set<string>()
  let stage: Set<string> | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!}`
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!m || line.trimStart().startsWith('#')) continue
    const instruction = m[1]!.toUpperCase()
    const args = m[2]!
    if (instruction === 'ARG') {
      for (const decl of args.split(/\s+/)) {
        const name = decl.split('=')[0]!
        ;(stage ?? globalArgs).add(name)
      }
      continue
    }
    if (instruction === 'FROM') {
      for (const v of variables(args)) {
        if (!globalArgs.has(v.name)) uses.push({ name: v.name, instruction, line: start + 1, col: lines[start]!.indexOf(v.text) + 1, length: v.text.length })
      }
      stage = new Set()
      continue
    }
    if (!stage) continue
    if (instruction === 'ENV') for (const decl of args.split(/\s+/)) stage.add(decl.split('=')[0]!)
    for (const v of variables(args)) {
      if (ciVariables.has(v.name) && !stage.has(v.name)) {
        uses.push({ name: v.name, instruction, line: start + 1, col: Math.max(1, lines[start]!.indexOf(v.text) + 1), length: v.text.length })
      }
    }
  }
  return uses
}

function variables(s: string): { name: string; text: string }[] {
  return [...s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => ({ name: (m[1] ?? m[2])!, text: m[0] }))
}
