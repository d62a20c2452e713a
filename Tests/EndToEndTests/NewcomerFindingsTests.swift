import Foundation
import Testing

/// Findings of a newcomer's day with mlv (issue 10's classes), each failing before its fix.
@Suite struct NewcomerFindingsTests {
    /// The id --force printed when it saved `rel` (from `checkout --json`).
    func savedID(_ s: Sandbox, force args: String...) throws -> String {
        let r = try s.run(mlvBinary, ["checkout", "--force", "--json"] + args, cwd: s.repo)
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let saved = obj?["saved"] as? [[String: Any]] ?? []
        return try #require(saved.first?["snapshot"] as? String, "nothing saved: \(r.stdout)")
    }

    /// A version --force saved and --snapshot brought back is the user's uncommitted work
    /// again: no checkout may replace it unasked, although the store holds it (before: the
    /// store's copy counted as "recorded", and the edit vanished with exit 0).
    @Test func aVersionBroughtBackFromASaveIsNotOverwritten() throws {
        let s = try Sandbox()
        try s.write("a.csv", "a,b\n1,2\n")
        try s.mlvOK("track", "a.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("a.csv", "a,b\n1,2\n3,4\n")
        try s.mlvOK("commit", "-m", "two")
        let edited = "a,b\n1,2\n3,4\n7,7\n"
        try s.write("a.csv", edited)
        let id = try savedID(s, force: "--", "a.csv")
        try s.mlvOK("checkout", "--snapshot", id, "--", "a.csv")
        #expect(s.read("a.csv") == Array(edited.utf8))
        for args in [["checkout", "HEAD~1"], ["checkout", "HEAD~1", "--", "a.csv"], ["checkout", "--", "a.csv"]] {
            let r = try s.run(mlvBinary, args, cwd: s.repo)
            #expect(r.status == 3, "\(args): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("a.csv"), "\(args): \(r.stderr)")
            #expect(s.read("a.csv") == Array(edited.utf8), "\(args) overwrote the edit")
        }
        // A second save of a different version, brought back over the first: refused too.
        try s.write("a.csv", "a,b\n8,8\n")
        let second = try savedID(s, force: "--", "a.csv")
        try s.mlvOK("checkout", "--snapshot", id, "--", "a.csv")
        let over = try s.mlv("checkout", "--snapshot", second, "--", "a.csv")
        #expect(over.status == 3, "\(over.stderr)")
        #expect(s.read("a.csv") == Array(edited.utf8))

        // A folder saved and brought back: the same.
        try s.write("d/x.txt", "x\n")
        try s.mlvOK("track", "d")
        try s.mlvOK("commit", "-m", "folder")
        try s.write("d/x.txt", "x edited\n")
        let folder = try savedID(s, force: "--", "d")
        try s.mlvOK("checkout", "--snapshot", folder, "--", "d")
        let r = try s.mlv("checkout", "HEAD~1")
        #expect(r.status == 3, "\(r.stderr)")
        #expect(s.read("d/x.txt") == Array("x edited\n".utf8))
    }

    /// One commit that changed two targets is one log entry (before: one per target, so
    /// `-n 1` showed half a commit and the header twice).
    @Test func logShowsEachCommitOnceWithEveryTargetItChanged() throws {
        let s = try Sandbox()
        try s.write("a.txt", "a\n")
        try s.write("b.txt", "b\n")
        try s.mlvOK("track", "a.txt", "b.txt")
        try s.mlvOK("commit", "-m", "one")
        try s.write("a.txt", "a2\n")
        try s.write("b.txt", "b2\n")
        try s.mlvOK("commit", "-m", "two")
        let text = try s.mlvOK("log").stdout
        let head = try s.head()
        #expect(text.components(separatedBy: "commit \(head)").count == 2, "\(text)")
        #expect(text.contains("modified a.txt") && text.contains("modified b.txt"))
        let json = try JSONSerialization.jsonObject(with: Data(try s.mlvOK("log", "-n", "1", "--json").stdout.utf8)) as! [[String: Any]]
        #expect(json.count == 1)
        #expect(json.first?["commit"] as? String == head)
        #expect((json.first?["changes"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["a.txt", "b.txt"])
    }

    /// A mistyped mlv.yaml key: the suggestion reads as a question, then the fix, and the
    /// restore command brings back HEAD's copy (`stage add` may have staged the broken one).
    @Test func configErrorsSuggestThenRestoreTheCommittedCopy() throws {
        let s = try Sandbox()
        try s.write("mlv.yaml", "version: 1\nstage:\n  a:\n    cmd: [echo]\n")
        let r = try s.mlv("repro")
        #expect(r.status == 2)
        #expect(r.stderr.contains("mlv.yaml:2: unknown key 'stage'; did you mean 'stages'? Otherwise fix the file"), "\(r.stderr)")
        #expect(r.stderr.contains("`git checkout HEAD -- mlv.yaml`") && !r.stderr.contains("?;"), "\(r.stderr)")
    }

    /// A model a stage writes as JSON under models/ is a model, not a one-row table with
    /// drift; a single JSON document is never read as JSON Lines, two records are.
    @Test func jsonDocumentsAreNotTables() throws {
        let s = try Sandbox()
        try s.write("models/model.json", #"{"w": [0.1, 0.2, 0.3], "b": 0.5}"# + "\n")
        try s.write("data/config.json", #"{"lr": 0.1}"# + "\n")
        try s.write("data/rows.json", #"{"id": 1, "v": 2}"# + "\n" + #"{"id": 2, "v": 3}"# + "\n")
        try s.mlvOK("track", "models/model.json", "data/config.json", "data/rows.json")
        try s.mlvOK("commit", "-m", "one")
        #expect(String(decoding: s.read("models/model.json.mlv") ?? [], as: UTF8.self).contains("kind: model"))
        try s.write("models/model.json", #"{"w": [9.1, 9.2, 9.3], "b": 7.5}"# + "\n")
        try s.write("data/config.json", #"{"lr": 0.2}"# + "\n")
        try s.write("data/rows.json", #"{"id": 1, "v": 2}"# + "\n" + #"{"id": 2, "v": 4}"# + "\n" + #"{"id": 3, "v": 5}"# + "\n")
        try s.mlvOK("commit", "-m", "two")
        let json = try JSONSerialization.jsonObject(with: Data(try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "json").stdout.utf8)) as! [String: Any]
        let targets = Dictionary(uniqueKeysWithValues: (json["targets"] as! [[String: Any]]).map { ($0["path"] as! String, $0) })
        #expect(targets["models/model.json"]?["kind"] as? String == "model")
        #expect(targets["models/model.json"]?["table"] == nil && targets["data/config.json"]?["table"] == nil, "\(targets)")
        let rows = (targets["data/rows.json"]?["table"] as? [String: Any])?["rows"] as? [String: Any]
        #expect(rows?["old"] as? Int == 2 && rows?["new"] as? Int == 3, "\(String(describing: targets["data/rows.json"]))")
    }

    /// A metrics file a stage wrote for the first time is added (the word a target in no
    /// commit yet gets), not modified.
    @Test func aMetricsFileInNoCommitYetIsAdded() throws {
        let s = try Sandbox()
        try s.write("in.txt", "a\n")
        try s.mlvOK("track", "in.txt")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "t", "--dep", "in.txt", "--metrics", "eval.json", "--", "sh", "-c", #"echo '{"acc": 1}' > eval.json"#)
        try s.mlvOK("repro")
        let st = try JSONSerialization.jsonObject(with: Data(try s.mlvOK("status", "--json").stdout.utf8)) as! [String: Any]
        let files = st["git_files"] as? [[String: Any]] ?? st["gitFiles"] as? [[String: Any]] ?? []
        #expect(files.first { $0["path"] as? String == "eval.json" }?["state"] as? String == "added", "\(st)")
        try s.mlvOK("commit", "-m", "ran")
        try s.write("eval.json", #"{"acc": 2}"# + "\n")
        try s.git("add", "eval.json")
        #expect(try s.mlvOK("status").stdout.contains("modified:"), "a changed metrics file is modified")
        // Gone from the working tree: `deleted`, the word a target gets, not a second one.
        try FileManager.default.removeItem(atPath: s.repo + "/eval.json")
        let gone = try json(try s.mlvOK("status", "--json"))
        let after = gone["git_files"] as? [[String: Any]] ?? gone["gitFiles"] as? [[String: Any]] ?? []
        #expect(after.first { $0["path"] as? String == "eval.json" }?["state"] as? String == "deleted", "\(gone)")
        #expect(try s.mlvOK("status").stdout.contains("deleted:"))
    }

    /// A global --key no compared dataset has names every dataset, not just the first.
    @Test func aKeyNoDatasetHasNamesThemAll() throws {
        let s = try Sandbox()
        try s.write("a.csv", "id,v\n1,2\n")
        try s.write("b.csv", "k,w\n1,2\n")
        try s.mlvOK("track", "a.csv", "b.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("a.csv", "id,v\n1,3\n")
        try s.write("b.csv", "k,w\n1,3\n")
        let r = try s.mlv("diff", "--key", "nope")
        #expect(r.status == 2)
        #expect(r.stderr.contains("a.csv") && r.stderr.contains("b.csv") && r.stderr.contains("\"nope\""), "\(r.stderr)")
    }

    /// An empty pipeline says so instead of printing nothing; stage list quotes commands so
    /// they can be pasted back.
    @Test func emptyPipelinesSaySoAndCommandsAreQuoted() throws {
        let s = try Sandbox()
        #expect(try s.mlvOK("repro").stdout.contains("no stages"))
        try s.write("a.txt", "a\n")
        try s.mlvOK("track", "a.txt")
        try s.mlvOK("commit", "-m", "one")
        #expect(try s.mlvOK("repro", "--verify").stdout.contains("no stages"))
        try s.mlvOK("stage", "add", "t", "--", "python3", "-c", "import sys; sys.exit(0)")
        #expect(try s.mlvOK("stage", "list").stdout.contains("t: python3 -c 'import sys; sys.exit(0)'"))
    }

    /// Row samples in text read one way: a value holding a separator, or empty, is quoted.
    @Test func sampleValuesWithSeparatorsAreQuoted() throws {
        let s = try Sandbox()
        try s.write("t.csv", "id,note,flag\n1,plain,true\n")
        try s.mlvOK("track", "t.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("t.csv", "id,note,flag\n1,plain,true\n2,\"has, comma\",\n")
        let out = try s.mlvOK("diff", "--key", "id").stdout
        #expect(out.contains(#"id=2, note="has, comma", flag="""#), "\(out)")
    }

    /// Text shows an exact median in full (224999.5, not 225000), and a column one side
    /// lacks as "—", not as a count of 0.
    @Test func medianInFullAndMissingSidesAsDashes() throws {
        let s = try Sandbox()
        try s.write("t.csv", "id,gone\n" + (0..<450_000).map { "\($0),x\n" }.joined())
        try s.mlvOK("track", "t.csv")
        try s.mlvOK("commit", "-m", "one")
        try s.write("t.csv", "id\n" + (0..<450_000).map { "\($0)\n" }.joined())
        let out = try s.mlvOK("diff", "--no-pager").stdout
        #expect(out.contains("224999.5 → 224999.5"), "\(out)")
        let gone = try #require(out.split(separator: "\n").first { $0.contains("gone") && $0.contains("string") }, "\(out)")
        #expect(gone.contains("450000 → —") && !gone.contains("→ 0"), "\(gone)")
    }

    /// A table added (or removed) says how big it is in rows × columns in every format.
    @Test func anAddedTableShowsItsShape() throws {
        let s = try Sandbox()
        try s.write("a.txt", "a\n")
        try s.mlvOK("track", "a.txt")
        try s.mlvOK("commit", "-m", "one")
        try s.write("t.csv", "id,v\n1,2\n3,4\n5,6\n")
        try s.mlvOK("track", "t.csv")
        try s.mlvOK("commit", "-m", "two")
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", format).stdout
            #expect(out.contains("3 rows × 2 columns"), "\(format): \(out)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "json").stdout.utf8)) as! [String: Any]
        let t = (json["targets"] as! [[String: Any]]).first { $0["path"] as? String == "t.csv" }
        #expect((t?["shape"] as? [String: Any])?["rows"] as? Int == 3)
    }

    /// The same rule for repro: a stage output brought back from a save is work, saved again
    /// (with the way back printed) before the stage replaces it.
    @Test func reproSavesAnOutputBroughtBackFromASave() throws {
        let s = try Sandbox()
        try s.write("in.txt", "a\n")
        try s.mlvOK("track", "in.txt")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "t", "--dep", "in.txt", "--out", "o.txt", "--", "sh", "-c", "cat in.txt in.txt > o.txt")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "ran")
        try s.write("o.txt", "edited by hand\n")
        let id = try savedID(s, force: "--", "o.txt")
        try s.mlvOK("checkout", "--snapshot", id, "--", "o.txt")
        try s.write("in.txt", "b\n")
        let r = try s.mlvOK("repro")
        #expect(r.stdout.contains("saved your uncommitted o.txt"), "\(r.stdout)")
        #expect(s.read("o.txt") == Array("b\nb\n".utf8))
    }
}
