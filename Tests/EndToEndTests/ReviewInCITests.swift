import Foundation
import MLVTestSupport
import Testing

/// Issue 10, "Review in CI": the README's GitHub Actions workflow run end to end on a fresh
/// clone (pull, then a diff of commits pull did not fetch, as a markdown report), the commands
/// that read stored data fetching what they lack, the hints naming the command that helps,
/// and per-dataset diff keys.

/// The README's CI workflow: the `run:` steps of the ```yaml block after "GitHub Actions",
/// each as (argv after the mlv binary, the file its stdout goes to). Steps that are not mlv
/// (installing packages, building) are checked to be the build, and skipped: the test runs
/// the binary under test.
func readmeWorkflow(sourceLocation: SourceLocation = #_sourceLocation) throws -> (steps: [(args: [String], stdoutTo: String?)], fullHistory: Bool) {
    let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
    guard let mention = readme.range(of: "GitHub Actions"),
          let open = readme.range(of: "```yaml\n", range: mention.upperBound..<readme.endIndex),
          let close = readme.range(of: "\n```", range: open.upperBound..<readme.endIndex) else {
        Issue.record("README.md has no ```yaml block after \"GitHub Actions\"", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    let block = readme[open.upperBound..<close.lowerBound]
    var steps: [(args: [String], stdoutTo: String?)] = []
    for line in block.split(separator: "\n") {
        guard let r = line.range(of: "run: ") else { continue }
        var cmd = String(line[r.upperBound...])
        if let hash = cmd.range(of: " #") { cmd = String(cmd[..<hash.lowerBound]) }
        // What GitHub Actions substitutes for a pull request into main.
        cmd = cmd.replacingOccurrences(of: "${{ github.base_ref }}", with: "main")
        var words = cmd.split(separator: " ").map(String.init)
        guard words.first == ".build/release/mlv" else {
            #expect(cmd.contains("make release"), "a workflow step that neither builds nor runs mlv: \(cmd)", sourceLocation: sourceLocation)
            continue
        }
        // The test splits at spaces: a quoted argument would need a shell.
        #expect(!cmd.contains("'") && !cmd.contains("\"") && !cmd.contains("|"), "unexpected shell syntax in \(cmd)", sourceLocation: sourceLocation)
        words.removeFirst()
        var to: String? = nil
        if let i = words.firstIndex(of: ">"), i + 1 < words.count {
            to = words[i + 1]
            words.removeSubrange(i...(i + 1))
        }
        steps.append((words, to))
    }
    return (steps, block.contains("fetch-depth: 0"))
}

/// `id,x` rows 1…n, the data of one commit.
func trainRows(_ n: Int) -> String {
    "id,x\n" + (1...n).map { "\($0),\(Double($0) * 1.5)\n" }.joined()
}

/// An origin repository with a pipeline and a growing dataset: main has c1 (2 rows) and c2
/// (3 rows), the pull request's branch `feature` c3 (4 rows) and c4 (5 rows), each commit with
/// its stage re-run; every commit's data pushed to the remote `addRemote` adds. Returns a
/// fresh clone of the feature branch, as actions/checkout makes it (full history, origin/main).
func pullRequestClone(_ s: Sandbox, addRemote: () throws -> Void) throws -> String {
    try s.write("data/train.csv", trainRows(2))
    try s.mlvOK("track", "data/train.csv")
    try addRemote()
    try s.mlvOK("stage", "add", "prep", "--dep", "data/train.csv", "--out", "clean.csv", "--",
                "sh", "-c", "tr 0-9 a-j < data/train.csv > clean.csv")
    try s.mlvOK("repro")
    try s.mlvOK("commit", "-m", "c1")
    try s.write("data/train.csv", trainRows(3))
    try s.mlvOK("repro")
    try s.mlvOK("commit", "-m", "c2")
    try s.git("switch", "-q", "-c", "feature")
    for (n, msg) in [(4, "c3"), (5, "c4")] {
        try s.write("data/train.csv", trainRows(n))
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", msg)
    }
    try s.mlvOK("push", "--all-commits")
    let clone = s.root + "/clone"
    try s.git("clone", "-q", "--branch", "feature", s.repo, clone)
    return clone
}

/// data/train.csv's rows between two revisions (old, new, added, removed), from the JSON
/// report, read offline: the numbers a markdown report shows, without depending on its wording.
func trainRowCounts(_ s: Sandbox, _ clone: String, _ a: String, _ b: String,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> [Int] {
    let r = try s.mlvOK("diff", a, b, "--format", "json", "--offline", "--", "data/train.csv", cwd: clone, sourceLocation: sourceLocation)
    let t = (try json(r)["targets"] as? [[String: Any]])?.first { $0["path"] as? String == "data/train.csv" }
    let rows = (t?["table"] as? [String: Any])?["rows"] as? [String: Any] ?? [:]
    return ["old", "new", "added", "removed"].map { rows[$0] as? Int ?? -1 }
}

/// Runs the README's workflow in `clone` and checks the report; returns the report.
func runReadmeWorkflow(_ s: Sandbox, clone: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let (steps, fullHistory) = try readmeWorkflow(sourceLocation: sourceLocation)
    #expect(fullHistory, "the workflow must check out the whole history (fetch-depth: 0) to diff against origin/main", sourceLocation: sourceLocation)
    #expect(steps.map { $0.args.first ?? "" } == ["pull", "repro", "diff"], "the workflow's mlv steps changed: \(steps.map(\.args))", sourceLocation: sourceLocation)
    var report: String? = nil
    for step in steps {
        let r = try s.run(mlvBinary, step.args, cwd: clone)
        #expect(r.status == 0, "workflow step mlv \(step.args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)", sourceLocation: sourceLocation)
        if let to = step.stdoutTo {
            try r.stdoutBytes.write(to: URL(fileURLWithPath: clone + "/" + to))
            report = r.stdout
        }
    }
    guard let report else {
        Issue.record("the workflow writes no report", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    // origin/main (c2, 3 rows) against HEAD (c4, 5 rows): two rows added, none removed.
    #expect(report.contains("| data/train.csv |"), "report: \(report)", sourceLocation: sourceLocation)
    #expect(report.contains("origin/main"), "report: \(report)", sourceLocation: sourceLocation)
    #expect(try trainRowCounts(s, clone, "origin/main", "HEAD", sourceLocation: sourceLocation) == [3, 5, 2, 0], sourceLocation: sourceLocation)
    return report
}

@Suite struct ReviewInCITests {
    /// The README's workflow, literally, on a fresh clone with a directory remote; then two
    /// older commits neither pull nor the workflow fetched, with and without --offline.
    @Test func readmeWorkflowOnFreshCloneDirectoryRemote() throws {
        let s = try Sandbox()
        let clone = try pullRequestClone(s) {
            try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        }
        _ = try runReadmeWorkflow(s, clone: clone)

        // c1 (HEAD~3) and c3 (HEAD~1) were never fetched (pull: HEAD; the workflow's diff:
        // origin/main): --offline names the command that brings them.
        let offline = try s.mlv("diff", "HEAD~3", "HEAD~1", "--format", "md", "--offline", cwd: clone)
        #expect(offline.status == 4, "\(offline.stderr)")
        #expect(offline.stderr.contains("data/train.csv at HEAD~3 and HEAD~1"), "\(offline.stderr)")
        #expect(offline.stderr.contains("`mlv fetch --rev HEAD~3 --rev HEAD~1`"), "\(offline.stderr)")
        #expect(!offline.stderr.contains("mlv pull"), "\(offline.stderr)")
        // Without it, the diff fetches (a line on stderr) and reports: c1 (2 rows) → c3 (4 rows).
        let fetched = try s.mlvOK("diff", "HEAD~3", "HEAD~1", "--format", "md", cwd: clone)
        #expect(fetched.stderr.contains("fetched") && fetched.stderr.contains("HEAD~3"), "\(fetched.stderr)")
        #expect(fetched.stdout.contains("| data/train.csv |"), "\(fetched.stdout)")
        #expect(try trainRowCounts(s, clone, "HEAD~3", "HEAD~1") == [2, 4, 2, 0])
        // Everything is here now: quiet, and --offline works.
        let again = try s.mlvOK("diff", "HEAD~3", "HEAD~1", "--format", "md", "--offline", cwd: clone)
        #expect(again.stderr.isEmpty, "\(again.stderr)")
        #expect(again.stdout == fetched.stdout)
    }

    /// The same workflow against the test S3 server, credentials in the environment as the
    /// workflow's `env:` gives them.
    @Test func readmeWorkflowOnFreshCloneS3Remote() throws {
        let server = try S3Server.get()
        var s = try Sandbox()
        s.env = server.credentials
        let bucket = try server.bucket()
        let clone = try pullRequestClone(s) {
            try s.mlvOK("remote", "add", "origin", "s3://\(bucket)/team/review", "--endpoint", server.endpoint)
        }
        _ = try runReadmeWorkflow(s, clone: clone)
        let older = try s.mlvOK("diff", "HEAD~3", "HEAD~2", "--format", "json", cwd: clone)
        let targets = try json(older)["targets"] as? [[String: Any]] ?? []
        let rows = (targets.first { $0["path"] as? String == "data/train.csv" }?["table"] as? [String: Any])?["rows"] as? [String: Any]
        #expect(rows?["old"] as? Int == 2 && rows?["new"] as? Int == 3, "\(older.stdout)")
    }

    /// Every command that reads stored data of a revision: fetched when missing (only what
    /// was asked), and with --offline or without a remote, an error naming what helps.
    @Test func readersFetchWhatTheyNeedAndHintsNameTheCommand() throws {
        let s = try Sandbox()
        let clone = try pullRequestClone(s) {
            try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        }
        try s.mlvOK("pull", cwd: clone)

        // show: an older version, byte for byte; offline first.
        let off = try s.mlv("show", "HEAD~2:data/train.csv", "--offline", cwd: clone)
        #expect(off.status == 4 && off.stderr.contains("`mlv fetch --rev HEAD~2 -- data/train.csv`"), "\(off.stderr)")
        #expect(try s.shown("HEAD~2:data/train.csv", cwd: clone) == Array(trainRows(3).utf8))
        // Only that revision came: HEAD~3's is still missing.
        let older = try s.mlv("show", "HEAD~3:data/train.csv", "--offline", cwd: clone)
        #expect(older.status == 4 && older.stderr.contains("`mlv fetch --rev HEAD~3 -- data/train.csv`"), "\(older.stderr)")
        // Listing file targets needs only their pointers.
        let listed = try s.mlvOK("ls", "--json", "HEAD~3", "--offline", cwd: clone)
        let files = try JSONSerialization.jsonObject(with: listed.stdoutBytes) as? [[String: Any]] ?? []
        let train = files.first { $0["path"] as? String == "data/train.csv" }
        #expect(train?["size"] as? Int == trainRows(2).utf8.count, "\(listed.stdout)")

        // checkout of a revision this clone lacks: not "run mlv pull" (pull brings HEAD's data).
        let other = s.root + "/clone2"
        try s.git("clone", "-q", "--branch", "feature", s.repo, other)
        try s.mlvOK("pull", cwd: other)
        let co = try s.mlv("checkout", "HEAD~3", cwd: other)
        #expect(co.status == 4, "\(co.stderr)")
        #expect(!co.stderr.contains("mlv pull"), "\(co.stderr)")
        #expect(co.stderr.contains("`mlv fetch --rev HEAD~3`") && co.stderr.contains("`mlv checkout HEAD~3` again"), "\(co.stderr)")
        try s.mlvOK("fetch", "--rev", "HEAD~3", cwd: other)
        try s.mlvOK("checkout", "HEAD~3", cwd: other)
        #expect(s.read("data/train.csv", in: other) == Array(trainRows(2).utf8))

        // A stage run on the inputs of a commit this clone lacks: the same hint.
        let run = try s.mlv("run", "prep", "--rev", "HEAD~1", cwd: clone)
        #expect(run.status == 4, "\(run.stderr)")
        #expect(!run.stderr.contains("mlv pull") && run.stderr.contains("`mlv fetch --rev HEAD~1`"), "\(run.stderr)")

        // No remote at all: say how to add one, then the fetch.
        let bare = s.root + "/clone3"
        try s.git("clone", "-q", "--branch", "feature", s.repo, bare)
        try s.mlvOK("remote", "remove", "origin", cwd: bare)
        let none = try s.mlv("diff", "HEAD~1", "HEAD", cwd: bare)
        #expect(none.status == 4, "\(none.stderr)")
        #expect(none.stderr.contains("mlv remote add") && none.stderr.contains("`mlv fetch --rev HEAD~1 --rev HEAD`"), "\(none.stderr)")

        // The textconv driver: a pointer of a commit this clone never fetched gets its summary
        // (fetched); with --offline, a note instead of a failed `git diff`, never "mlv pull".
        let third = s.root + "/clone4"
        try s.git("clone", "-q", "--branch", "feature", s.repo, third)
        let pointer = try s.git("show", "HEAD~3:data/train.csv.mlv", cwd: third).stdoutBytes
        try pointer.write(to: URL(fileURLWithPath: third + "/old-train.csv.mlv"))
        let driverOff = try s.mlvOK("diff-driver", "--offline", "old-train.csv.mlv", cwd: third)
        #expect(driverOff.stdout.contains("no content summary") && !driverOff.stdout.contains("mlv pull"), "\(driverOff.stdout)")
        let driver = try s.mlvOK("diff-driver", "old-train.csv.mlv", cwd: third)
        #expect(driver.stdout.contains("column id:") && driver.stdout.contains("column x:"), "\(driver.stdout)")
    }

    /// `mlv ls` of a folder a clone never fetched: its trees are fetched, not its files' data
    /// (a big file committed earlier stays on the remote).
    @Test func lsFetchesTheFolderTreesOnly() throws {
        let s = try Sandbox()
        let big = noise(3 << 20, seed: 7)
        try s.write("imgs/big.bin", big)
        try s.mlvOK("track", "imgs")
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.mlvOK("commit", "-m", "big")
        try s.write("imgs/sub/small.txt", "small\n")
        try s.mlvOK("commit", "-m", "small")
        try s.mlvOK("push", "--all-commits")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone)
        let off = try s.mlv("ls", "HEAD", "--offline", cwd: clone)
        #expect(off.status == 4 && off.stderr.contains("imgs at HEAD") && off.stderr.contains("`mlv fetch --rev HEAD`"), "\(off.stderr)")
        let r = try s.mlvOK("ls", "--json", "HEAD", cwd: clone)
        let files = (try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [[String: Any]] ?? [])
            .reduce(into: [String: Int]()) { $0[$1["path"] as? String ?? ""] = $1["size"] as? Int }
        #expect(files == ["imgs/big.bin": big.count, "imgs/sub/small.txt": 6], "\(r.stdout)")
        #expect(try s.mlv("ls", "HEAD:imgs/sub", "--offline", cwd: clone).status == 0)
        // Showing one file of the folder brings that file, not the others.
        #expect(try s.shown("HEAD:imgs/sub/small.txt", cwd: clone) == Array("small\n".utf8))
        // The 3 MiB file's data came neither with the listing nor with the other file.
        let show = try s.mlv("show", "HEAD:imgs/big.bin", "--offline", cwd: clone)
        #expect(show.status == 4 && show.stderr.contains("`mlv fetch --rev HEAD -- imgs/big.bin`"), "\(show.stderr)")
        #expect(try s.shown("HEAD:imgs/big.bin", cwd: clone) == big)
    }

    /// A fresh clone before `mlv pull`: its data is "not checked out" (as status says), not
    /// deleted, so `mlv diff` against the working tree has nothing to report.
    @Test func freshCloneWorkingTreeIsNotCheckedOutNotDeleted() throws {
        let s = try Sandbox()
        let clone = try pullRequestClone(s) {
            try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        }
        let status = try s.mlvOK("status", "--json", cwd: clone)
        #expect(status.stdout.contains("not_checked_out"), "\(status.stdout)")
        let r = try s.mlv("diff", "--exit-code", "--format", "json", cwd: clone)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect((try json(r)["targets"] as? [[String: Any]])?.isEmpty == true, "\(r.stdout)")
        // Nothing compared, nothing fetched, nothing said.
        #expect(r.stderr.isEmpty && packCount(clone) == 0, "\(r.stderr)")
        // Only the revisions and paths asked are fetched: HEAD~3 and HEAD~2's train.csv, not
        // their clean.csv, not HEAD's data.
        let one = try s.mlvOK("diff", "HEAD~3", "HEAD~2", "--format", "md", "--", "data/train.csv", cwd: clone)
        #expect(one.stdout.contains("| data/train.csv |"), "\(one.stdout)")
        #expect(try trainRowCounts(s, clone, "HEAD~3", "HEAD~2") == [2, 3, 1, 0])
        #expect(try s.mlv("show", "HEAD~3:data/train.csv", "--offline", cwd: clone).stdoutBytes == Data(trainRows(2).utf8))
        for spec in ["HEAD~3:clean.csv", "HEAD:data/train.csv"] {
            let off = try s.mlv("show", spec, "--offline", cwd: clone)
            #expect(off.status == 4, "\(spec) was fetched: \(off.stderr)")
        }
        // A pull request's review from a clone that checked out nothing: two commits.
        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "md", cwd: clone)
        #expect(md.stdout.contains("| data/train.csv |"), "\(md.stdout)")
        #expect(try trainRowCounts(s, clone, "HEAD~1", "HEAD") == [4, 5, 1, 0])
    }

    // MARK: per-dataset keys (#18)

    /// a.csv has `id`, b.csv has not: `--key id` keys a.csv and compares b.csv as a multiset
    /// with a note in every format; `--key data/b.csv=k` keys b.csv by its own column.
    @Test func globalKeyMissingInOneDatasetIsANoteNotAnError() throws {
        let s = try Sandbox()
        let a1 = "id,v\n1,a\n2,b\n3,c\n", a2 = "id,v\n1,a\n2,B\n3,c\n4,d\n"
        let b1 = "k,w\n1,x\n2,y\n", b2 = "k,w\n1,x\n2,Y\n3,z\n"
        try s.write("data/a.csv", a1)
        try s.write("data/b.csv", b1)
        try s.mlvOK("track", "data/a.csv", "data/b.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("data/a.csv", a2)
        try s.write("data/b.csv", b2)
        try s.mlvOK("commit", "-m", "two")

        // Expected counts from the inputs: rows as multisets of lines, and by key.
        func lines(_ t: String) -> [String] { Array(t.split(separator: "\n").dropFirst().map(String.init)) }
        func multiset(_ old: String, _ new: String) -> (added: Int, removed: Int) {
            var count: [String: Int] = [:]
            for l in lines(old) { count[l, default: 0] += 1 }
            var added = 0
            for l in lines(new) { if let c = count[l], c > 0 { count[l] = c - 1 } else { added += 1 } }
            return (added, count.values.reduce(0, +))
        }
        func byKey(_ old: String, _ new: String) -> (added: Int, removed: Int, modified: Int) {
            let o = Dictionary(uniqueKeysWithValues: lines(old).map { ($0.split(separator: ",")[0], $0) })
            let n = Dictionary(uniqueKeysWithValues: lines(new).map { ($0.split(separator: ",")[0], $0) })
            return (n.keys.filter { o[$0] == nil }.count, o.keys.filter { n[$0] == nil }.count,
                    n.keys.filter { o[$0] != nil && o[$0] != n[$0] }.count)
        }

        let r = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "json")
        #expect(r.status == 0, "\(r.stderr)")
        let targets = try json(r)["targets"] as? [[String: Any]] ?? []
        func table(_ p: String, _ ts: [[String: Any]]) -> [String: Any]? { ts.first { $0["path"] as? String == p }?["table"] as? [String: Any] }
        let ta = table("data/a.csv", targets), tb = table("data/b.csv", targets)
        let ra = ta?["rows"] as? [String: Any], rb = tb?["rows"] as? [String: Any]
        let ka = byKey(a1, a2), mb = multiset(b1, b2)
        #expect(ra?["keyed"] as? Bool == true && ra?["key"] as? [String] == ["id"])
        #expect(ra?["added"] as? Int == ka.added && ra?["removed"] as? Int == ka.removed && ra?["modified"] as? Int == ka.modified)
        #expect(ta?["notes"] == nil)
        #expect(rb?["keyed"] as? Bool == false && (rb?["key"] as? [String])?.isEmpty == true)
        #expect(rb?["added"] as? Int == mb.added && rb?["removed"] as? Int == mb.removed)
        let notes = tb?["notes"] as? [String] ?? []
        #expect(notes.count == 1 && notes.allSatisfy { $0.contains("data/b.csv") && $0.contains("\"id\"") && $0.contains("k, w") && $0.contains("--key data/b.csv=COLUMN") }, "\(notes)")

        // The note in every human format.
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", format).stdout
            #expect(out.contains("not by --key id") && out.contains("data/b.csv=COLUMN"), "\(format): \(out)")
        }

        // A global key no dataset has is a typo: an error naming a file and its columns.
        let typo = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "idd")
        #expect(typo.status == 2 && typo.stderr.contains("\"idd\"") && typo.stderr.contains("data/a.csv"), "\(typo.stderr)")

        // Its own key: b.csv matched by k.
        let own = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--key", "data/b.csv=k", "--format", "json")
        let tb2 = table("data/b.csv", try json(own)["targets"] as? [[String: Any]] ?? [])
        let rb2 = tb2?["rows"] as? [String: Any]
        let kb = byKey(b1, b2)
        #expect(rb2?["keyed"] as? Bool == true && rb2?["key"] as? [String] == ["k"])
        #expect(rb2?["added"] as? Int == kb.added && rb2?["removed"] as? Int == kb.removed && rb2?["modified"] as? Int == kb.modified)
        #expect(tb2?["notes"] == nil)
        // Composite, as the global syntax allows.
        let both = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "data/b.csv=k,w", "--format", "json")
        let rb3 = table("data/b.csv", try json(both)["targets"] as? [[String: Any]] ?? [])?["rows"] as? [String: Any]
        #expect(rb3?["key"] as? [String] == ["k", "w"])
    }

    /// A per-dataset key naming a column the dataset lacks is an error naming the file, the
    /// column and the columns there are; one naming no target names the path.
    @Test func perDatasetKeyErrors() throws {
        let s = try Sandbox()
        try s.write("data/b.csv", "k,w\n1,x\n")
        try s.mlvOK("track", "data/b.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("data/b.csv", "k,w\n1,y\n")
        try s.mlvOK("commit", "-m", "two")
        let bad = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "data/b.csv=nope")
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("data/b.csv") && bad.stderr.contains("\"nope\"") && bad.stderr.contains("k, w"), "\(bad.stderr)")
        let typo = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "data/c.csv=k")
        #expect(typo.status == 2 && typo.stderr.contains("data/c.csv"), "\(typo.stderr)")
        let empty = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "data/b.csv=")
        #expect(empty.status == 64, "\(empty.stderr)")
        let twice = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "k", "--key", "w")
        #expect(twice.status == 64, "\(twice.stderr)")
    }
}
