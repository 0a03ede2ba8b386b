/** gitlab-runner's short token: the first 8 characters after a `glrt-` (and `t1_`) prefix. */
export function shortToken(token: string): string {
  return token.replace(/^glrt-(?:t\d_)?/, '').slice(0, 8)
}
