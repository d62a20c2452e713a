import Foundation
import Testing

/// Audit of issue 10's classes in stage params, run records and params/metrics deltas:
/// a stage's `--params FILE:SECTION` covers every key below the section (as DVC's does), a
/// declared key the file lacks is an error, a run record keeps the metrics of each metrics
/// file apart, and a value that did not change has no NaN delta.
@Suite struct AuditFixesParamsTests {
    /// `mlv-runs/STAGE.json` read by Python's json module.
    static func record(_ s: Sandbox, _ stage: String) throws -> [String: Any] {
        let bytes = try #require(s.read("mlv-runs/\(stage).json"))
        return try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func base() throws -> Sandbox {
        let s = try Sandbox()
        try s.write("in/x", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        return s
    }

    /// `--params params.yaml:train` (a section): the record and the fingerprint hold every
    /// value below it, flattened as `params.yaml:train.KEY`; changing one re-runs the stage,
    /// changing a key outside the section does not; lineage shows the values.
    @Test func aSectionParamCoversEveryKeyBelowIt() throws {
        let s = try Self.base()
        try s.write("params.yaml", "train:\n  lr: 0.001\n  seed: 1\n  layers: [8, 4]\n  opt:\n    name: adam\nother: 5\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--params", "params.yaml:train", "--out", "o", "--", "sh", "-c", "cp in/x o")
        #expect(try s.mlvOK("repro").stdout.contains("s: ran"))
        // The values as written in the file, under their dotted keys.
        let want = ["params.yaml:train.lr": "0.001", "params.yaml:train.seed": "1", "params.yaml:train.layers.0": "8",
                    "params.yaml:train.layers.1": "4", "params.yaml:train.opt.name": "adam"]
        #expect(try Self.record(s, "s")["params"] as? [String: String] == want)
        try s.mlvOK("commit", "-m", "run")

        try s.write("params.yaml", "train:\n  lr: 0.001\n  seed: 42\n  layers: [8, 4]\n  opt:\n    name: adam\nother: 5\n")
        let again = try s.mlvOK("repro").stdout
        #expect(again.contains("s: ran") || again.contains("s: restored"), "a changed seed must re-run the stage: \(again)")
        #expect((try Self.record(s, "s")["params"] as? [String: String])?["params.yaml:train.seed"] == "42")
        try s.mlvOK("commit", "-m", "seed")   // lineage reads the committed record
        let lineage = try s.mlvOK("lineage", "o").stdout
        #expect(lineage.contains("param params.yaml:train.seed = 42") && lineage.contains("param params.yaml:train.opt.name = adam"), "\(lineage)")
        #expect(!lineage.contains("param params.yaml:train ="), "\(lineage)")

        // A key outside the declared section is not the stage's.
        try s.write("params.yaml", "train:\n  lr: 0.001\n  seed: 42\n  layers: [8, 4]\n  opt:\n    name: adam\nother: 6\n")
        #expect(try s.mlvOK("repro").stdout.contains("s: up to date"))
        // A nested section, in a JSON params file, by `mlv run` (isolated) as well.
        try s.write("p.json", #"{"model": {"depth": 3, "heads": [2, 9007199254740993]}, "x": 1}"#)
        try s.mlvOK("stage", "add", "t", "--dep", "in", "--params", "p.json:model.heads", "--out", "t.txt", "--", "sh", "-c", "cp in/x t.txt")
        try s.mlvOK("commit", "-m", "t")
        try s.mlvOK("run", "t")
        #expect(try Self.record(s, "t")["params"] as? [String: String] == ["p.json:model.heads.0": "2", "p.json:model.heads.1": "9007199254740993"])
    }

    /// A key that exists with the value null, or as an empty section, is a value (it can
    /// change), not a missing key.
    @Test func aNullOrEmptyParamIsAValue() throws {
        let s = try Self.base()
        try s.write("params.yaml", "train:\n  dropout: null\n  extra: {}\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--params", "params.yaml:train", "--out", "o", "--", "sh", "-c", "cp in/x o")
        try s.mlvOK("repro")
        #expect(try Self.record(s, "s")["params"] as? [String: String] == ["params.yaml:train.dropout": "null", "params.yaml:train.extra": "{}"])
        try s.write("params.yaml", "train:\n  dropout: 0.1\n  extra: {}\n")
        #expect(try s.mlvOK("repro").stdout.contains("s: ran"))
        try s.write("params.yaml", "train:\n  dropout: 0.1\n  extra: {a: 1}\n")
        #expect(try s.mlvOK("repro").stdout.contains("s: ran"))
    }

    /// A declared key the file lacks: exit 2 naming the file, the key and the nearest key,
    /// at `stage add` when the file exists, and at `repro` before any stage runs.
    @Test func aDeclaredParamMissingFromItsFileIsAnError() throws {
        let s = try Self.base()
        try s.write("params.yaml", "train:\n  lr: 0.001\n  seed: 1\n")
        let add = try s.mlv("stage", "add", "s", "--dep", "in", "--params", "params.yaml:train.lrr", "--out", "o", "--", "sh", "-c", "cp in/x o")
        #expect(add.status == 2, "\(add.stdout)\(add.stderr)")
        #expect(add.stderr.contains("params.yaml") && add.stderr.contains("train.lrr") && add.stderr.contains("train.lr'"), "\(add.stderr)")
        #expect(!(String(decoding: s.read("mlv.yaml") ?? [], as: UTF8.self).contains("lrr")), "the stage must not be added")

        // The file does not exist yet: accepted; repro then checks it before running anything.
        try s.mlvOK("stage", "add", "first", "--dep", "in", "--out", "f", "--", "sh", "-c", "cp in/x f")
        try s.mlvOK("stage", "add", "s", "--dep", "f", "--params", "later.yaml:train.seed", "--out", "o", "--", "sh", "-c", "cp f o")
        try s.write("later.yaml", "train:\n  sed: 1\n")
        let r = try s.mlv("repro")
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("later.yaml") && r.stderr.contains("train.seed") && r.stderr.contains("train.sed'"), "\(r.stderr)")
        #expect(!s.exists("f") && !s.exists("o"), "nothing runs when a declared param is missing")

        // A key removed from the file later is reported the same way.
        try s.write("later.yaml", "train:\n  seed: 1\n")
        try s.mlvOK("repro")
        try s.write("later.yaml", "train:\n  seeds: 1\n")
        let gone = try s.mlv("repro")
        #expect(gone.status == 2 && gone.stderr.contains("train.seed") && gone.stderr.contains("train.seeds'"), "\(gone.stderr)")
    }

    /// Two metrics files with the same keys: the record keeps each file's metrics under its
    /// path, every number as the file wrote it.
    @Test func runRecordsKeepEachMetricsFilesMetrics() throws {
        let s = try Self.base()
        try s.write("w.sh", "cp in/x o\nprintf '{\"acc\": 0.96611816245062291, \"big\": 9007199254740995}' > m.json\nprintf 'acc: 0.5\\nbig: 9007199254740993\\n' > m2.yaml\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--dep", "w.sh", "--out", "o", "--metrics", "m.json", "--metrics", "m2.yaml", "--", "sh", "w.sh")
        try s.mlvOK("repro")
        let text = String(decoding: s.read("mlv-runs/s.json") ?? [], as: UTF8.self)
        let c = try ExactNumbersTests.canon(s, text)
        let want = try ExactNumbersTests.expected(s, ["0.96611816245062291", "9007199254740995", "0.5", "9007199254740993"])
        #expect(c["/metrics/#keys"] == "m.json,m2.yaml", "\(text)")
        #expect(c["/metrics/m.json/acc"] == want[0] && c["/metrics/m.json/big"] == want[1], "\(text)")
        #expect(c["/metrics/m2.yaml/acc"] == want[2] && c["/metrics/m2.yaml/big"] == want[3], "\(text)")
        #expect(c["/metrics/m.json/#keys"] == "acc,big")
        // The record reads back: up to date, and verified against a re-run.
        try s.git("add", "w.sh")
        try s.mlvOK("commit", "-m", "run")
        #expect(try s.mlvOK("repro").stdout.contains("s: up to date"))
        let v = try s.mlvOK("repro", "--verify", "--json").stdout
        #expect(v.contains("\"ok\" : true"), "\(v)")
    }

    /// A record committed before metrics were kept per file (one flat object) still reads:
    /// up to date, verified, restored byte for byte from HEAD, and shown by lineage.
    @Test func flatMetricsRecordsStillRead() throws {
        let s = try Self.base()
        try s.write("w.sh", "cat in/x > o\nprintf '{\"acc\": 0.25, \"n\": 3}' > m.json\nprintf 'acc: 0.5\\n' > m2.yaml\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--dep", "w.sh", "--out", "o", "--metrics", "m.json", "--metrics", "m2.yaml", "--", "sh", "w.sh")
        try s.mlvOK("repro")
        // Rewrite the record as the earlier mlv wrote it: one flat object, the file read last winning.
        let py = """
        import json, collections
        r = json.load(open('mlv-runs/s.json'), object_pairs_hook=collections.OrderedDict)
        flat = collections.OrderedDict([('acc', 0.5), ('n', 3)])
        r['metrics'] = flat
        open('mlv-runs/s.json', 'w').write(json.dumps(r, indent=2, sort_keys=False) + '\\n')
        """
        #expect(try s.run("/usr/bin/env", ["python3", "-c", py], cwd: s.repo).status == 0)
        let legacy = try #require(s.read("mlv-runs/s.json"))
        try s.git("add", "mlv-runs/s.json", "w.sh")
        try s.mlvOK("commit", "-m", "run")
        #expect(try s.mlvOK("repro").stdout.contains("s: up to date"))
        let v = try s.mlvOK("repro", "--verify", "--json").stdout
        #expect(v.contains("\"ok\" : true"), "\(v)")
        try s.mlvOK("lineage", "o")
        // Other inputs, then the committed ones again: HEAD's record comes back as it was.
        try s.write("in/x", "b\n")
        try s.mlvOK("repro")
        #expect(s.read("mlv-runs/s.json") != legacy)
        try s.write("in/x", "a\n")
        try s.mlvOK("repro")
        #expect(s.read("mlv-runs/s.json") == legacy)
    }

    /// A `--fail-on` gate on a key two metrics files share is not decided on whichever file
    /// came first: it is an error naming both, and FILE:KEY picks one.
    @Test func aGateOnAKeyOfTwoFilesNamesBoth() throws {
        let s = try Sandbox()
        try s.write("train.json", #"{"acc": 0.9}"#)
        try s.write("test.json", #"{"acc": 0.8}"#)
        try s.mlvOK("track", "--kind", "metrics", "train.json", "test.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("train.json", #"{"acc": 0.95}"#)
        try s.write("test.json", #"{"acc": 0.7}"#)
        try s.mlvOK("commit", "-m", "v2")
        let both = try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "acc < 0")
        #expect(both.status == 2 && both.stderr.contains("train.json") && both.stderr.contains("test.json"), "\(both.status) \(both.stderr)")
        // test.json's accuracy fell by 0.1, train.json's rose.
        #expect(try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "test.json:acc < -0.05").status == 10)
        #expect(try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "train.json:acc < -0.05").status == 0)
        #expect(try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "new(train.json:acc) > 0.9").status == 10)
    }

    /// Integers past 64 bits: a change of 1 is a delta of 1 (doubles would say 0), as
    /// Python's integer arithmetic says.
    @Test func integerDeltasPast64BitsAreExact() throws {
        let s = try Sandbox()
        let old = ["a": "18446744073709551616", "b": "-99999999999999999999999999999999999999", "c": "123456789012345678901234567890"]
        let new = ["a": "18446744073709551617", "b": "99999999999999999999999999999999999999", "c": "123456789012345678901234567891"]
        func json(_ d: [String: String]) -> String { "{" + d.keys.sorted().map { "\"\($0)\": \(d[$0]!)" }.joined(separator: ", ") + "}" }
        try s.write("m.json", json(old))
        try s.mlvOK("track", "--kind", "metrics", "m.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("m.json", json(new))
        try s.mlvOK("commit", "-m", "v2")
        let keys = old.keys.sorted()
        let py = try s.run("/usr/bin/env", ["python3", "-c", "import sys\nfor i in range(1, len(sys.argv), 2): print(repr(float(int(sys.argv[i + 1]) - int(sys.argv[i]))))"] +
                           keys.flatMap { [old[$0]!, new[$0]!] }, cwd: s.root)
        let want = try ExactNumbersTests.expected(s, py.stdout.split(separator: "\n").map(String.init))
        let c = try ExactNumbersTests.canon(s, try s.mlvOK("metrics", "diff", "HEAD~1", "HEAD", "--format", "json").stdout)
        for (i, k) in keys.enumerated() {
            #expect(c["/metrics/\(i)/key"] == "s:" + k)
            #expect(c["/metrics/\(i)/delta"] == want[i], "\(k): \(c["/metrics/\(i)/delta"] ?? "none")")
        }
    }

    /// An unchanged infinite or NaN param has the delta of any unchanged value (0), not NaN;
    /// a change whose difference is not a number has none (null, and nothing in text).
    @Test func unchangedNonFiniteValuesHaveNoNaNDelta() throws {
        let s = try Sandbox()
        try s.write("p.yaml", "a: -.inf\nb: .inf\nc: .nan\nf: 0.5\nd: 1\ne: .inf\ng: 2\n")
        try s.mlvOK("track", "--kind", "params", "p.yaml")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("p.yaml", "a: -.inf\nb: .inf\nc: .nan\nf: 0.5\nd: .nan\ne: 1\ng: .inf\n")
        try s.mlvOK("commit", "-m", "v2")
        let r = try s.mlvOK("params", "diff", "HEAD~1", "HEAD", "--format", "json")
        let j = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var rows: [String: [String: Any]] = [:]
        for p in (j["params"] as? [[String: Any]]) ?? [] { rows[p["key"] as? String ?? ""] = p }
        func num(_ k: String, _ f: String) -> Any? { rows[k]?[f].flatMap { $0 is NSNull ? nil : $0 } }
        // f is the finite unchanged value: the others unchanged must look the same.
        let unchangedDelta = num("f", "delta") as? Double, unchangedRel = num("f", "relative") as? Double
        #expect(unchangedDelta == 0)
        for k in ["a", "b", "c"] {
            #expect(num(k, "delta") as? Double == unchangedDelta, "\(k): \(rows[k] ?? [:])")
            #expect(num(k, "relative") as? Double == unchangedRel, "\(k): \(rows[k] ?? [:])")
        }
        // 1 → NaN: no difference; Infinity → 1: −Infinity, relative undefined; 2 → Infinity.
        #expect(num("d", "delta") == nil && num("d", "relative") == nil, "\(rows["d"] ?? [:])")
        #expect(num("e", "delta") as? String == "-Infinity" && num("e", "relative") == nil, "\(rows["e"] ?? [:])")
        #expect(num("g", "delta") as? String == "Infinity" && num("g", "relative") as? String == "Infinity", "\(rows["g"] ?? [:])")
        #expect(!r.stdout.contains("\"delta\" : \"NaN\"") && !r.stdout.contains("\"relative\" : \"NaN\""), "\(r.stdout)")
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("params", "diff", "HEAD~1", "HEAD", "--format", format).stdout
            let rows = format == "html" ? out.components(separatedBy: "<tr>") : out.components(separatedBy: "\n")
            let row = rows.first { $0.contains(" d ") || $0.contains("| d |") || $0.contains("<td>d</td>") } ?? ""
            #expect(row.components(separatedBy: "NaN").count == 2, "\(format): the d row shows NaN once (its new value): \(row)")
        }
    }
}
