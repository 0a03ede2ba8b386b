import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Two failures of a Windows runner host rather than of the job:
 * - cygwin_fork_failure (proposed by the corpus's twenty-third pass): Cygwin and MSYS2 emulate fork()
 *   by copying the parent's memory into a child at the same addresses; DLLs rebased out of place,
 *   antivirus hooks or a starved host make the copy fail at random points of a build.
 * - antivirus_blocked_file (the same pass): Microsoft Defender (or another scanner) quarantines or
 *   locks a file the build just wrote or unpacked — often a self-extracting or bootloader .exe.
 */

const CYGWIN_FORK = /\*\*\* fatal error (?:in forked process|- cygheap base mismatch detected|- couldn't allocate heap)|\bchild_copy: [\w ]{1,60}? (?:read|write) copy failed|\bforked process \d+ died unexpectedly|\bfork: child \d+ - died waiting for dll loading|unable to remap .{1,300} to same address as parent|\bfork: (?:retry: )?Resource temporarily unavailable.{0,40}(?:cygwin|msys)/i
// Windows' ERROR_VIRUS_INFECTED (225) and ERROR_VIRUS_DELETED (226), as Win32 text or relayed by Python/.NET/Go.
const VIRUS = /Operation (?:did not|could not be) complete(?:d)? successfully because the file contains a virus|Operation could not be completed because the file contains a virus|\[WinError 22[56]\]|Th(?:e|is) file contains a virus/i
// Weaker: Python's EINVAL on an executable it just unpacked under a Windows path (Defender holding it).
// (A name with : < > " | ? * past the drive is invalid in itself: that EINVAL is the name's.)
const EINVAL_EXE = /^OSError: \[Errno 22\] Invalid argument: '[a-zA-Z]:\\{1,2}[^':<>"|?*]{1,400}\.(?:exe|dll)'$/

function cygwinFork(s: Scan): Diagnosis[] {
  const hit = s.all(CYGWIN_FORK).pop()
  if (!hit || s.wentPast(hit.line)) return []
  // Cygwin retries a failed fork: when the build went on and failed on its own (a compiler or test error after
  // the fork lines), the fork hiccup is background, offered below that failure.
  const later = s.failsAfter(hit.line.n, /fork|child_copy|cygheap|fatal error in forked|Resource temporarily unavailable|died (?:waiting|unexpectedly)/i)
  return [diagnosis('cygwin_fork_failure', 'Cygwin/MSYS2 could not fork on the runner host',
    `"${hit.line.text.trim().slice(0, 160)}": Cygwin (and MSYS2) emulate fork() by re-creating the parent's memory in the child at the same addresses; when DLLs were rebased out of place, an antivirus or other injected DLL moved something, or the host ran short of memory, the copy fails — at random points of the build, not in the project's code.`,
    evidence(hit, s.near(hit.line.n, /fatal error|child_copy|fork/i, 3)), [
      { text: 'Retry the job; if it keeps failing on one runner, take that runner out of rotation (pause it) and use healthy ones.' },
      { text: 'On the runner host: close every Cygwin process and rebase the DLLs (Cygwin: rebaseall from dash; MSYS2: autorebase.bat), then reboot.', snippet: "C:\\cygwin64\\bin\\dash.exe -c '/usr/bin/rebaseall -v'" },
      { text: 'Exclude the Cygwin/MSYS2 tree and the builds directory from antivirus scanning, and run fewer jobs at once on the host (concurrent/limit).' },
    ], later ? 0.15 : 0.75)]
}

function antivirus(s: Scan): Diagnosis[] {
  const hit = s.all(VIRUS).pop() ?? s.all(EINVAL_EXE).filter((h) => /site-packages|AppData|\\Temp\\|bootloader|\\build\\|\\dist\\/i.test(h.line.text)).pop()
  if (!hit || s.wentPast(hit.line)) return []
  const sure = VIRUS.test(hit.line.text)
  return [diagnosis('antivirus_blocked_file', `${sure ? 'Antivirus' : 'Probably antivirus'} blocked a file the job needs`,
    sure
      ? `"${hit.line.text.trim().slice(0, 160)}": Windows refused the file because its antivirus (Microsoft Defender, or another scanner) flagged it — often a false positive on a freshly built or unpacked executable.`
      : `"${hit.line.text.trim().slice(0, 160)}": Windows would not open an executable the job had just installed or built, without another error: on a Windows runner that is usually the antivirus (Microsoft Defender) quarantining or holding it, often a false positive on tools' bootloaders and installers.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Check the runner host\'s antivirus history for the file (Defender: Protection history, or Get-MpThreatDetection in PowerShell).', snippet: 'Get-MpThreatDetection | Sort-Object InitialDetectionTime -Descending | Select-Object -First 5' },
      { text: 'Exclude the runner\'s builds, cache and tool directories from real-time scanning on the host (or report the false positive to the vendor and update its signatures).', snippet: 'Add-MpPreference -ExclusionPath "C:\\GitLab-Runner\\builds", "C:\\GitLab-Runner\\cache"' },
      { text: 'Or pin the previous release of the tool whose file is flagged.' },
    ], sure ? 0.8 : 0.45)]
}

export const windowsHostRule: Rule = {
  id: 'windows-host',
  categories: ['cygwin_fork_failure', 'antivirus_blocked_file'],
  match(ev) {
    const s = Scan.of(ev)
    return [...cygwinFork(s), ...antivirus(s)]
  },
}
