import Foundation
import MLVTestSupport
import Testing

/// Issue 10, pipelines and configuration: a run-cache restore gives back the committed run
/// record byte for byte; a stage's `--params FILE:KEY` file is a params file for diff and
/// status; mlv.yaml (and the other files mlv reads) report typos and bad YAML with file:line.
@Suite struct PipelineTruthTests {
    /// A one-stage pipeline: `t` copies d.csv to o.txt, with a param and a metrics file.
    func stageSandbox() throws -> Sandbox {
        let s = try Sandbox()
        try s.write("d.csv", "x\n1\n2\n")
        try s.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 5\n")
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("stage", "add", "t", "--dep", "d.csv", "--params", "params.yaml:train.lr", "--out", "o.txt",
                    "--metrics", "m.json", "--", "sh", "-c", "cp d.csv o.txt; echo '{\"rows\": 2}' > m.json")
        try s.git("add", "params.yaml")
        try s.mlvOK("commit", "-m", "base")
        return s
    }

    /// Runs mlv with the author date of commits it makes set to `epoch` (the Sandbox pins one
    /// date for all), so that SOURCE_DATE_EPOCH differs between runs at different commits.
    @discardableResult
    func mlvAt(_ s: Sandbox, _ epoch: Int, _ args: String...) throws -> RunResult {
        let r = try s.run("/usr/bin/env", ["GIT_AUTHOR_DATE=@\(epoch) +0000", "GIT_COMMITTER_DATE=@\(epoch) +0000", mlvBinary] + args)
        #expect(r.status == 0, "mlv \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)")
        return r
    }

    func porcelain(_ s: Sandbox) throws -> String { try s.git("status", "--porcelain").stdout }

    // MARK: #9 run-cache restore

    @Test func goingBackToTheCommittedInputsRestoresTheCommittedRecordByteForByte() throws {
        let s = try stageSandbox()
        try s.mlvOK("repro")
        try mlvAt(s, 1_767_300_000, "commit", "-m", "ran")
        let committed = try s.git("show", "HEAD:mlv-runs/t.json").stdoutBytes
        #expect(try porcelain(s).isEmpty)

        // Plain: change an input, repro, change it back, repro.
        try s.write("params.yaml", "train:\n  lr: 0.2\n  epochs: 5\n")
        try s.mlvOK("repro")
        try s.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 5\n")
        var r = try s.mlvOK("repro")
        #expect(r.stdout.contains("t: restored from the run record committed at HEAD"), "\(r.stdout)")
        #expect(s.read("mlv-runs/t.json") == [UInt8](committed))
        let dirty = try porcelain(s)
        #expect(dirty.isEmpty, "restore left the tree dirty: \(dirty)")
        #expect(try s.mlv("status", "--exit-code").status == 0)

        // The same inputs ran again since the commit (`repro --verify` runs them in isolation
        // at HEAD, whose date differs from the one the committed run saw): going back still
        // gives the committed record, not the later run's.
        try s.mlvOK("repro", "--verify")
        try s.write("params.yaml", "train:\n  lr: 0.3\n  epochs: 5\n")
        try s.mlvOK("repro")
        try s.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 5\n")
        r = try s.mlvOK("repro")
        #expect(r.stdout.contains("restored"), "\(r.stdout)")
        #expect(s.read("mlv-runs/t.json") == [UInt8](committed),
                "restored record differs from the committed one:\n\(String(decoding: s.read("mlv-runs/t.json") ?? [], as: UTF8.self))")
        let dirty2 = try porcelain(s)
        #expect(dirty2.isEmpty, "restore left the tree dirty2: \(dirty2)")
        #expect(try s.mlv("status", "--exit-code").status == 0)
    }

    @Test func missingOutputsComeBackWithTheirRecordUntouched() throws {
        // The working record already describes these inputs: only the outputs come back.
        let s = try stageSandbox()
        try s.mlvOK("repro")
        try mlvAt(s, 1_767_300_000, "commit", "-m", "ran")
        try s.mlvOK("repro", "--verify")   // a later run of the same inputs, into the cache
        try FileManager.default.removeItem(atPath: s.repo + "/o.txt")
        try s.mlvOK("repro")
        #expect(s.read("o.txt") == Array("x\n1\n2\n".utf8))
        let dirty = try porcelain(s)
        #expect(dirty.isEmpty, "\(dirty)")
    }

    @Test func aDamagedCommittedRecordIsNamedNotTakenForNoRecord() throws {
        let s = try stageSandbox()
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "ran")
        var text = String(decoding: s.read("mlv-runs/t.json")!, as: UTF8.self)
        // A bad merge: a line lost its comma.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let broken = lines.firstIndex { $0.contains("\"exit_code\"") }!
        text = lines.enumerated().map { $0.offset == broken ? String($0.element.dropLast()) : String($0.element) }.joined(separator: "\n")
        try s.write("mlv-runs/t.json", text)
        try s.git("commit", "-qam", "bad merge")
        for args in [["repro", "--verify"], ["lineage", "o.txt"]] {
            let r = try s.run(mlvBinary, args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stdout) \(r.stderr)")
            // The JSON breaks where the next key starts, one line below the lost comma.
            #expect(r.stderr.contains("mlv-runs/t.json:\(broken + 2) at HEAD is not a valid run record"), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("has no run record"), "\(args): \(r.stderr)")
        }
    }

    // MARK: #21 a stage's params file is a params file

    @Test func aStagesParamsFileIsDiffedWithoutTrackingIt() throws {
        let s = try stageSandbox()
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "ran")
        try s.write("params.yaml", "train:\n  lr: 0.25\n  epochs: 5\n")

        let text = try s.mlv("params", "diff")
        #expect(text.stdout.contains("train.lr"), "params diff: \(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("0.1") && text.stdout.contains("0.25"))
        #expect(!text.stdout.contains("train.epochs"), "an unchanged param is listed as a change: \(text.stdout)")

        for args in [["params", "diff", "--format", "json"], ["diff", "--format", "json"]] {
            let r = try s.run(mlvBinary, args)
            let json = try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any]
            let params = json?["params"] as? [[String: Any]] ?? []
            let lr = params.first { $0["key"] as? String == "train.lr" }
            #expect(lr?["file"] as? String == "params.yaml", "\(args): \(r.stdout)")
            // The whole file is params (as DVC shows it): the undeclared key is there, unchanged.
            #expect(params.contains { $0["key"] as? String == "train.epochs" }, "\(args): \(r.stdout)")
            func number(_ v: Any?) -> Double? {
                if let d = v as? Double { return d }
                if let s = v as? String { return Double(s) }
                if let m = v as? [String: Any] { return number(m["number"] ?? m["value"]) }
                return nil
            }
            #expect(number(lr?["old"]) == 0.1 && number(lr?["new"]) == 0.25, "\(args): \(String(describing: lr))")
        }

        let status = try s.mlv("status", "--json")
        let json = try JSONSerialization.jsonObject(with: status.stdoutBytes) as? [String: Any]
        let files = json?["git_files"] as? [[String: Any]] ?? []
        #expect(files.contains { $0["path"] as? String == "params.yaml" && $0["kind"] as? String == "params" && $0["state"] as? String == "modified" },
                "status: \(status.stdout)")
        #expect(try s.mlv("status", "--exit-code").status == 1)
    }

    @Test func untrackingAStagesParamsFileIsRefusedWithTheWayOut() throws {
        let s = try stageSandbox()
        let r = try s.mlv("untrack", "params.yaml")
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("mlv stage remove t"), "\(r.stderr)")
    }

    // MARK: #15 mlv.yaml typos and bad YAML

    /// The 1-based line of the first line of `text` holding `key` (a `name:`) at its start, or
    /// after a space or `{`.
    func line(of key: String, in text: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { l in
            l.drop { $0 == " " }.hasPrefix(key) || l.contains(" " + key) || l.contains("{" + key)
        } ?? -1) + 1
    }

    @Test func unknownKeysInMlvYamlAreErrorsWithLineAndNearestKey() throws {
        let s = try Sandbox()
        try s.write("d.csv", "x\n1\n")
        let cases: [(yaml: String, key: String, suggestion: String?)] = [
            ("version: 1\nstage:\n  a:\n    cmd: [sh, -c, 'echo ran > ran.txt']\n", "stage", "stages"),
            ("version: 1\nstages:\n  a:\n    cmd: [echo]\n    dep: [d.csv]\n", "dep", "deps"),
            ("version: 1\nstages:\n  a:\n    cmd: [echo]\n    out: [o.txt]\n", "out", "outs"),
            ("version: 1\nremotes:\n  origin:\n    ulr: /tmp/nowhere\n", "ulr", "url"),
            ("version: 1\ntargets:\n  d.csv: {keys: [x]}\n", "keys", "key"),
            ("version: 1\ncompresion_level: 3\n", "compresion_level", "compression_level"),
            ("version: 1\nfrobnicate: true\n", "frobnicate", nil),
        ]
        for c in cases {
            try s.write("mlv.yaml", c.yaml)
            for args in [["repro"], ["status"]] {
                let r = try s.run(mlvBinary, args)
                #expect(r.status == 2, "\(args) on \(c.yaml.debugDescription): \(r.status) \(r.stdout) \(r.stderr)")
                let want = "mlv.yaml:\(line(of: c.key + ":", in: c.yaml)): unknown key '\(c.key)'"
                #expect(r.stderr.contains(want), "want \(want), got \(r.stderr)")
                if let sug = c.suggestion {
                    #expect(r.stderr.contains("did you mean '\(sug)'?"), "\(r.stderr)")
                } else {
                    #expect(!r.stderr.contains("did you mean"), "\(r.stderr)")
                }
            }
            #expect(!s.exists("ran.txt"), "repro ran a stage from a config with a typo")
        }
    }

    @Test func wrongTypesInMlvYamlNameTheLine() throws {
        let s = try Sandbox()
        let cases: [(yaml: String, key: String)] = [
            ("version: 1\nstages:\n  a:\n    cmd: [echo]\n    deps: d.csv\n", "deps"),
            ("version: 1\nstages:\n  a:\n    cmd: echo hi\n", "cmd"),
            ("version: 1\nstages:\n  a:\n    cmd: [echo]\n    seed: many\n", "seed"),
            ("version: 1\nmetrics: {a: 1}\n", "metrics"),
            ("version: 1\nstages: [a, b]\n", "stages"),
            ("version: 1\nstages:\n  a:\n", "a"),              // a stage with nothing in it
        ]
        for c in cases {
            try s.write("mlv.yaml", c.yaml)
            let r = try s.mlv("repro")
            #expect(r.status == 2, "\(c.yaml.debugDescription): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("mlv.yaml:\(line(of: c.key + ":", in: c.yaml)):"), "\(c.yaml.debugDescription): \(r.stderr)")
            #expect(r.stderr.contains(c.key), "\(r.stderr)")
            #expect(!r.stderr.contains("Expected to decode"), "Swift decoder wording: \(r.stderr)")
        }
    }

    /// Line and column (1-based) where PyYAML (the reference YAML parser) finds `text` invalid.
    func pyYAMLError(_ text: String) throws -> (Int, Int) {
        let script = """
        import sys, yaml
        try:
            yaml.safe_load(sys.stdin.read())
            print("valid")
        except yaml.MarkedYAMLError as e:
            print(e.problem_mark.line + 1, e.problem_mark.column + 1)
        """
        let o = try python(script, input: text)
        let parts = o.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(parts.count == 2, "PyYAML found \(text.debugDescription) valid: \(o)")
        return parts.count == 2 ? (parts[0], parts[1]) : (0, 0)
    }

    @Test func invalidYAMLReportsFileLineAndColumn() throws {
        let s = try Sandbox()
        let bad = ["version: 1\nstages:\n  a:\n    cmd: [echo\n  b: 1\n", "version: 1\nmetrics: [a\n", "version: 1\n  stages: x\n"]
        for yaml in bad {
            let (l, c) = try pyYAMLError(yaml)
            try s.write("mlv.yaml", yaml)
            let r = try s.mlv("status")
            #expect(r.status == 2)
            #expect(r.stderr.contains("mlv.yaml:\(l):\(c): "), "\(yaml.debugDescription): want \(l):\(c), got \(r.stderr)")
        }
        // Params files too: YAML a stage reads, and JSON.
        try s.write("mlv.yaml", "version: 1\nstages:\n  a:\n    cmd: [echo]\n    params: ['params.yaml:lr']\n")
        let params = "lr: 0.1\nbatch: [1, 2\nother: 3\n"
        try s.write("params.yaml", params)
        let (l, c) = try pyYAMLError(params)
        let r = try s.mlv("repro")
        #expect(r.status == 2)
        _ = c
        #expect(r.stderr.contains("params.yaml:\(l): not valid YAML"), "want line \(l), got \(r.stderr)")
        #expect(!r.stderr.contains("\n") || r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")

        try s.write("mlv.yaml", "version: 1\nparams: [p.json]\n")
        try s.write("p.json", "{\"a\": 1,\n \"b\": ,\n \"c\": 3}\n")
        let j = try s.mlv("params", "diff")
        #expect(j.status == 2)
        #expect(j.stderr.contains("p.json") && j.stderr.contains(":2: not valid JSON"), "JSON error without its line: \(j.stderr)")
    }

    @Test func aStageWithoutItsCommandNamesTheLineAndTheKey() throws {
        let s = try Sandbox()
        let yaml = "version: 1\nstages:\n  a:\n    deps: [d.csv]\n"
        try s.write("mlv.yaml", yaml)
        let r = try s.mlv("repro")
        #expect(r.status == 2)
        #expect(r.stderr.contains("mlv.yaml:\(line(of: "deps:", in: yaml)): stages.a: missing key 'cmd'"), "\(r.stderr)")
    }

    @Test func featureDefinitionTyposNameTheLineAndTheNearestKey() throws {
        let s = try Sandbox()
        let v1 = "feature_views:\n  - name: v\n    features:\n      - name: a\n        dtype: int64\n        descripton: clicks\n"
        try s.write("f.features.yaml", v1)
        try s.mlvOK("track", "f.features.yaml")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("f.features.yaml", v1.replacingOccurrences(of: "int64", with: "int32"))
        let r = try s.mlv("diff")
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("f.features.yaml@HEAD:\(line(of: "descripton:", in: v1)): "), "\(r.stderr)")
        #expect(r.stderr.contains("unknown key 'descripton'") && r.stderr.contains("did you mean 'description'?"), "\(r.stderr)")
    }

    @Test func aMistypedStageNameSuggestsTheNearest() throws {
        let s = try stageSandbox()
        let r = try s.mlv("repro", "tt")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("no stage \"tt\"; did you mean 't'?"), "\(r.stderr)")
    }

    @Test func pointerTyposNameTheLineAndTheNearestKey() throws {
        let s = try Sandbox()
        try s.write("d.csv", "x\n1\n")
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "base")
        let text = String(decoding: s.read("d.csv.mlv")!, as: UTF8.self)
        try s.write("d.csv.mlv", text.replacingOccurrences(of: "\nsize:", with: "\nsise:"))
        let r = try s.mlv("status")
        #expect(r.status == 2)
        let l = line(of: "size:", in: text)
        #expect(r.stderr.contains("d.csv.mlv:\(l): unknown key 'sise'; did you mean 'size'?"), "\(r.stderr)")
    }
}
