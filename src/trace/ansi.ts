/** GitLab's job-log escape sequences (gitlab-runner helpers/ansi_colors.go), byte for byte. */
export const BOLD_RED = '\x1b[31;1m'
export const BOLD_GREEN = '\x1b[32;1m'
export const BOLD_YELLOW = '\x1b[33;1m'
export const BOLD_CYAN = '\x1b[36;1m'
export const YELLOW = '\x1b[0;33m'
export const RESET = '\x1b[0;m'
export const CLEAR = '\x1b[0K'

/** `section_start:<unix seconds>:<name>[opts]\r\x1b[0K` */
export function sectionStart(unixSeconds: number, name: string, opts?: string): string {
  return `section_start:${unixSeconds}:${name}${opts ? `[${opts}]` : ''}\r${CLEAR}`
}

/** `section_end:<unix seconds>:<name>\r\x1b[0K` */
export function sectionEnd(unixSeconds: number, name: string): string {
  return `section_end:${unixSeconds}:${name}\r${CLEAR}`
}
