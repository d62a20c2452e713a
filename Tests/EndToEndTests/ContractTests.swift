import Foundation
import Testing

/// The exit-code contract and the figures mlv copies (issue 10, items 1, 11–14).
@Suite struct ContractTests {
    /// Every error type declared in Sources declares its category (`CategorizedError`), which
    /// `classify` (MLVCommands) maps to a documented status, so none falls through to 1
    /// ("differences found").
    @Test func everyErrorTypeHasAnExitStatus() throws {
        let sources = packageRoot + "/Sources"
        var declared: [String] = []
        var all = ""
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let pattern = try NSRegularExpression(pattern: #"^(?:public |internal )?(?:final )?(?:enum|struct|class) ([A-Za-z0-9_]+)[^{\n]*:[^{\n]*\bError\b"#, options: .anchorsMatchLines)
        for f in files {
            let text = try String(contentsOfFile: sources + "/" + f, encoding: .utf8)
            all += text
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let r = Range(m.range(at: 1), in: text) else { continue }
                declared.append(String(text[r]))
            }
        }
        // Top-level declarations only: types nested in a function or declared private are
        // caught where they are thrown (StatCache's `Bad`, ModelDiff's `BadEntry`).
        #expect(declared.count >= 10, "found only \(declared)")
        for name in declared {
            #expect(all.contains("extension \(name): CategorizedError") || all.contains("\(name): Error, CategorizedError"),
                    "\(name) does not declare its category (CategorizedError), so it has no exit status")
        }
        // The one table from category to status covers every category.
        let table = ((try? String(contentsOfFile: sources + "/MLVCommands/Support.swift", encoding: .utf8)) ?? "")
            + ((try? String(contentsOfFile: sources + "/MLVCommands/ExitStatus.swift", encoding: .utf8)) ?? "")
        for c in ["input", "refused", "integrity", "system", "commandFailed", "nothingToDo"] {
            #expect(table.contains("case .\(c):"), "category \(c) has no exit status")
        }
    }

    @Test func unknownCommandsAreUsageErrorsWithASuggestion() throws {
        let s = try Sandbox(initMLV: false)
        let typo = try s.mlv("comit", "-m", "x")
        #expect(typo.status == 64, "\(typo.stderr)")
        #expect(typo.stderr.contains("'comit' is not an mlv command") && typo.stderr.contains("mlv commit"), "\(typo.stderr)")
        let help = try s.mlv("help", "nosuch")
        #expect(help.status == 64, "\(help.stderr)")
        #expect(try s.mlv("help", "status").status == 0)
    }

    @Test func usageErrorsFoundWhileRunningExit64InOneLine() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 10).utf8))
        let r = try s.mlv("diff", "--fail-on", "loss >")
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && !r.stderr.contains("CommandError") && r.stderr.hasPrefix("mlv: error: --fail-on"), "\(r.stderr)")
    }

    @Test func diffOfAPathTrackedNowhereIsAnError() throws {
        let s = try Sandbox.committing("data.csv", Array(csv(rows: 10).utf8))
        for args in [["diff", "HEAD", "HEAD", "--", "data/nonexistent"], ["diff", "--", "data/nonexistent"]] {
            let r = try s.run(mlvBinary, args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stdout)")
            #expect(r.stderr.contains("data/nonexistent is not tracked"), "\(r.stderr)")
        }
        #expect(try s.mlv("diff", "--", "data.csv").status == 0)
    }

    @Test func stageOutputsRecordExactSizesAndCannotBeUntrackedAlone() throws {
        let s = try Sandbox()
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--out", "out", "--out", "t.csv", "--",
                    "sh", "-c", "mkdir -p out/sub; cp in/x.txt out/; cp in/x.txt out/sub/y; printf 'a,b\\n1,2\\n3,4\\n' > t.csv")
        try s.mlvOK("repro")
        let out = String(decoding: s.read("out.mlv") ?? [], as: UTF8.self)
        #expect(out.contains("size: 4\n") && out.contains("files: 2\n"), "\(out)")
        let t = String(decoding: s.read("t.csv.mlv") ?? [], as: UTF8.self)
        #expect(t.contains("rows: 2\n") && t.contains("columns: 2\n") && t.contains("size: 12\n"), "\(t)")
        // The same figures a commit of the same data writes.
        try s.mlvOK("commit", "-m", "outputs")
        #expect(String(decoding: s.read("out.mlv") ?? [], as: UTF8.self) == out)
        let u = try s.mlv("untrack", "out")
        #expect(u.status == 2 && u.stderr.contains("mlv stage remove s"), "\(u.stderr)")
        #expect(s.exists("out.mlv"))
    }
}

/// Documented examples a newcomer run found failing: `mlv ls v1.0` (a tag with dots),
/// `mlv checkout -- models/` and `mlv pull -- models/` (a folder holding targets), and
/// `mlv pull --force` telling where the uncommitted data went.
@Suite struct DocumentedExamplesTests {
    @Test func aTagWithDotsAndAFolderOfTargets() throws {
        let s = try Sandbox()
        try s.write("models/a.bin", [1, 2, 3])
        try s.write("models/b.bin", [4, 5, 6])
        try s.mlvOK("track", "models/a.bin", "models/b.bin")
        try s.mlvOK("commit", "-m", "v1")
        try s.git("tag", "v1.0")
        let ls = try s.mlvOK("ls", "--json", "v1.0")
        #expect(ls.stdout.contains("models/a.bin") && ls.stdout.contains("models/b.bin"), "\(ls.stdout)")
        try s.write("models/a.bin", [9])
        try s.write("models/b.bin", [8])
        try s.mlvOK("commit", "-m", "v2")
        try s.mlvOK("checkout", "v1.0", "--", "models/")
        #expect(s.read("models/a.bin") == [1, 2, 3] && s.read("models/b.bin") == [4, 5, 6])
        // pull --force of a folder of targets, with uncommitted data: saved and said so.
        let remote = s.root + "/remote"
        try s.mlvOK("remote", "add", "origin", remote, "--create")
        try s.mlvOK("push")
        try s.write("models/a.bin", [7, 7])
        let p = try s.mlv("pull", "--force", "--", "models/")
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stderr.contains("saved your uncommitted models/a.bin"), "\(p.stderr)")
        #expect(s.read("models/a.bin") == [9])
    }
}

/// Messages a newcomer run found misleading: `mlv log` of a path tracked nowhere said "no
/// history yet" with exit 0; committing after deleting a target said the data was unchanged.
@Suite struct EverydayMessagesTests {
    @Test func logOfAnUnknownPathIsAnErrorAndOfAnOldTargetShowsItsHistory() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 5).utf8))
        let r = try s.mlv("log", "data/nope.csv")
        #expect(r.status == 2 && r.stderr.contains("data/nope.csv is not tracked"), "\(r.status) \(r.stderr)")
        try s.mlvOK("untrack", "d.csv")
        try s.mlvOK("commit", "-m", "untracked")
        let old = try s.mlvOK("log", "d.csv")
        #expect(old.stdout.contains("d.csv"), "\(old.stdout)")
    }

    @Test func aDriftGateNamingNoTrackedDatasetIsAnError() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 50).utf8))
        try s.write("d.csv", csv(rows: 60))
        let r = try s.mlv("diff", "--fail-on", "drift(data/nope.csv) > 0.01")
        #expect(r.status == 2 && r.stderr.contains("data/nope.csv is not tracked"), "\(r.status) \(r.stderr)")
        #expect(try s.mlv("diff", "--fail-on", "drift(d.csv) > 100").status == 0)
    }

    @Test func equalDataGetsAnEqualPointerWhenBroughtBack() throws {
        // Rows × columns were lost when data the store already held was committed again.
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 5).utf8))
        let v1 = String(decoding: s.read("d.csv.mlv") ?? [], as: UTF8.self)
        #expect(v1.contains("rows: 5\n") && v1.contains("columns: 4\n"), "\(v1)")
        try s.write("d.csv", csv(rows: 6))
        try s.mlvOK("commit", "-m", "v2")
        try s.mlvOK("checkout", "HEAD~1", "--", "d.csv")
        try s.mlvOK("commit", "-m", "rollback")
        #expect(String(decoding: s.read("d.csv.mlv") ?? [], as: UTF8.self) == v1)
    }

    @Test func committingADeletedTargetSaysWhatToDo() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 5).utf8))
        try FileManager.default.removeItem(atPath: s.repo + "/d.csv")
        let r = try s.mlv("commit", "-m", "gone")
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("d.csv is deleted here") && r.stderr.contains("mlv untrack d.csv"), "\(r.stderr)")
    }
}

/// The rows × columns a pointer records, checked against Python's own csv module (an outside
/// reader) on quoted fields with commas, empty fields, a missing final line break, and TSV.
@Suite struct TableShapeAgainstPythonTests {
    @Test func pointerShapeMatchesPythonsCSVReader() throws {
        let s = try Sandbox()
        let files: [(String, String)] = [
            ("a.csv", "id,name,note\n1,\"Smith, J\",x\n2,,\"a \"\"quoted\"\" word\"\n3,Lee,\n"),
            ("b.csv", "id,v\n1,2\n3,4"),
            ("c.tsv", "k\tv\tw\n1\t2\t3\n4\t5\t6\n7\t8\t9\n"),
        ]
        for (name, text) in files { try s.write(name, text) }
        try s.mlvOK("track", "a.csv", "b.csv", "c.tsv")
        try s.mlvOK("commit", "-m", "tables")
        for (name, _) in files {
            let delim = name.hasSuffix(".tsv") ? "\\t" : ","
            let py = try s.run("/usr/bin/env", ["python3", "-c", "import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=''), delimiter='\(delim)')); print(len(r)-1, len(r[0]))", s.repo + "/" + name])
            let want = py.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            let ptr = String(decoding: s.read(name + ".mlv") ?? [], as: UTF8.self)
            #expect(want.count == 2, "python: \(py.stderr)")
            #expect(ptr.contains("rows: \(want.first ?? "?")\n") && ptr.contains("columns: \(want.last ?? "?")\n"), "\(name): python says \(want), pointer \(ptr)")
        }
    }
}
