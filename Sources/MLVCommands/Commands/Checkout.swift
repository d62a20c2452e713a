// `mlv checkout`: bring data (and with REV, code) to what a commit pinned.
import ArgumentParser
import MLVCore

struct Checkout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring data (and with REV, code) to what a commit pinned.",
        discussion: """
        mlv checkout REV          move HEAD to REV (branch, tag, commit, HEAD~N) like \
        `git checkout`, and make every tracked target match REV
        mlv checkout REV -- PATH  restore only PATH (a target, or a file or folder inside \
        one) from REV; HEAD and pointers do not move
        mlv checkout              make the data match the current pointers: run it after \
        `git pull` or `git switch`

        Only files whose content differs are written, each under a temporary name and renamed \
        into place, so a file is always wholly old or wholly new. Chunks the old file already \
        holds are reused.

        Uncommitted work is never lost: a modified target is refused; with --force its \
        content is first saved into the store, and the message gives the command that \
        brings it back (`mlv checkout --snapshot ID -- PATH`). As in git, a switch to REV \
        leaves alone a target whose pointer is the same in both commits: your uncommitted \
        change to it is kept (shown as `kept`), unless --force. Uncommitted changes to files \
        git tracks (code, pointers) are refused too; with --force they are stashed \
        (`git stash pop` brings them back).

        Examples:
          mlv checkout HEAD~1
          mlv checkout main
          mlv checkout v1.0 -- data/train.csv
          mlv checkout --force -- data/train.csv    # discard local edits (saved first)
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(name: .shortAndLong, help: "Overwrite uncommitted changes (data is saved into the store first).") var force = false
    @Option(help: ArgumentHelp("Restore PATH from a snapshot id (as printed by --force).", valueName: "id")) var snapshot: String?
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Argument(help: "A branch, tag, commit or HEAD~N.") var revision: String?
    @Argument(parsing: .postTerminator, help: "After --: paths to restore without moving HEAD.") var paths: [String] = []

    func validate() throws {
        if snapshot != nil && (paths.count != 1 || revision != nil) {
            throw ValidationError("--snapshot restores one path: mlv checkout --snapshot ID -- PATH")
        }
    }

    func run() throws {
        let ws = try repo.open()
        let r = try MLVCore.Checkout(ws).run(rev: revision, paths: paths, force: force, snapshot: snapshot, waiting: waitingNotice)
        if json { try Out.json(r); return }
        CheckoutText.render(r, quiet: quiet)
    }
}
