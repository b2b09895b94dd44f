/**
 * The password given with --url must not show in the process list. On Linux, /proc/<pid>/cmdline (what ps and top
 * read) is the memory of the process's original arguments; Node rewrites that memory when process.title is set, so
 * partwise's first act (bin/partwise, before it loads anything else) is to set a title with the password masked.
 * No imports: the moment before this runs is as short as Node's own start.
 */

/** The arguments with every password masked: URLs (`postgres://user:***@host`) and `password=...` pairs. */
export function maskedArguments(argv: readonly string[]): string[] {
  return argv.map((a) =>
    a.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)/gi, '$1***'),
  );
}

/** Replaces the process's visible command line with `partwise <arguments, passwords masked>`. */
export function hidePasswordsFromProcessList(argv: readonly string[] = process.argv.slice(2)): void {
  process.title = ['partwise', ...maskedArguments(argv)].join(' ');
}
