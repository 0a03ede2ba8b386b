import { describe, expect, it } from 'vitest'
import { programs, simpleCommands } from './shell-commands.js'

describe('simple commands of a script line', () => {
  it('splits on operators, keeps quoted text in one word, drops comments', () => {
    expect(simpleCommands('echo "docker build" && docker build -t "a b" . # docker push')).toEqual([['echo', 'docker build'], ['docker', 'build', '-t', 'a b', '.']])
    expect(simpleCommands("x=$(docker ps -q); echo 'a;b'")).toEqual([['x='], ['docker', 'ps', '-q'], ['echo', 'a;b']])
  })
  it('finds the program after assignments and prefixes', () => {
    expect(programs('FOO=1 sudo docker info\nif true; then ./run.sh; fi')).toEqual([
      { program: 'docker', args: ['info'] }, { program: 'true', args: [] }, { program: './run.sh', args: [] }, { program: 'fi', args: [] },
    ])
    expect(programs('A=1 B=2')).toEqual([])
  })
})
