/**
 * Runs the stage script with the first shell the image has, bash preferred (gitlab-runner's
 * detection order). The script comes on the container's stdin (as gitlab-runner sends it; exec's stdin in a pod) and is
 * kept in `$0`, beside the project directory on the job's volume, so a command of the job that
 * reads stdin cannot eat the rest of the script. Why not an archive: on Docker every PUT of an archive
 * costs the engine a process of its own (~100 ms), and a job has several stages. The first stage
 * also makes the project directory.
 * stderr joins stdout inside the container: the engine copies the two streams separately, so
 * only one stream keeps lines in the order the job wrote them.
 */
export const DETECT_SHELL = 'exec 2>&1; mkdir -p "${0%/*}" "${0%.tmp/*}" && { if command -v cat >/dev/null; then cat > "$0"; else while IFS= read -r l || [ -n "$l" ]; do printf \'%s\\n\' "$l"; done > "$0"; fi; } || { echo "glrun: cannot write the stage script $0"; exit 1; }; ' + ['/usr/local/bin/bash', '/usr/bin/bash', '/bin/bash', '/usr/local/bin/sh', '/usr/bin/sh', '/bin/sh', '/busybox/sh']
  .map((s, i) => `${i === 0 ? 'if' : 'elif'} [ -x ${s} ]; then exec ${s} "$0"`)
  .join('; ') + '; else echo shell not found; exit 1; fi'
