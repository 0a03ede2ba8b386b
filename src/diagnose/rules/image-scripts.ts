import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A tool image's own wrapper script (in /usr/bin or /usr/local/bin) calls a file of the same image that is
 * not there: the image behind the tag changed under the job — a floating tag (:latest) moved to a release
 * that dropped or moved the file. The project's files live under the build directory, never there.
 */

// bash ("line N: … No such file or directory"), dash ("N: … not found") and BusyBox ash ("line N: … not found").
const WRAPPER = /^((?:\/usr)?(?:\/local)?\/bin\/[\w.-]+): (?:line )?\d+: (\/[\w./-]+): (?:No such file or directory|not found)$/
const SHELLS = /\/(?:ba|da|z|k|mk)?sh$|\/busybox$/
// What the job or the runtime puts there, not the image: checkouts, secrets and certificates mounted at run time.
const NOT_THE_IMAGE = /^\/(?:builds?|home|tmp|cache|certs|run|var\/run|secrets|etc\/gitlab-runner|mnt|workspace|github|scripts-)\b|\/builds?\//

function wrapper(s: Scan): Diagnosis[] {
  // The clone's own directory, wherever the runner put it (a custom builds_dir).
  const clone = /Git repository in (\/\S+?)\/\.git\/?$/.exec(s.first(/(?:Initialized empty|Reinitialized existing) Git repository in \//)?.line.text ?? '')?.[1]
  const hit = s.lastWhere(WRAPPER, (h) => !SHELLS.test(h.m[1] ?? '') && !NOT_THE_IMAGE.test(h.m[2] ?? '') && !(clone && (h.m[2] ?? '').startsWith(clone)) && !s.wentPast(h.line))
  if (!hit) return []
  const image = s.image()
  return [diagnosis('broken_tool_version', `The image's ${hit.m[1]} calls ${hit.m[2]}, which the image lacks`,
    `"${hit.line.text.trim().slice(0, 160)}": a script shipped in the image runs a file of the same image that is not there. The image behind the tag changed${image && /:latest$|^[^:@]+$/.test(image) ? ` (${image} follows the newest release)` : ''}: a newer release moved or dropped the file the wrapper expects.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Pin the image to the last tag (or digest) that worked.', snippet: 'image: <image>:<last good version>   # or <image>@sha256:<digest>' },
      { text: 'Check the tool\'s release notes for the new way to run it in CI (its integration guide may have changed with the release).' },
    ], 0.6)]
}

export const imageScriptsRule: Rule = {
  id: 'image-scripts',
  categories: ['broken_tool_version'],
  match(ev) {
    return wrapper(Scan.of(ev))
  },
}
