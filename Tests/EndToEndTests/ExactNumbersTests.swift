import Foundation
import Testing

/// Every number mlv takes from a user's file comes out exactly as it went in (issue 10, items
/// 2 and 3): metrics and params in run records, `metrics show`, `metrics diff`, `params diff`,
/// `mlv diff` in every format, `--fail-on` values, JSON Lines cells. Expectations come from
/// Python, not from mlv: its `json` module reads mlv's JSON with every number kept as its text,
/// and `decimal.Decimal` says whether two number texts are the same number (exactly, sign of
/// zero included); bare NaN/Infinity (not JSON) are refused.
@Suite struct ExactNumbersTests {
    /// The edges of issue 10: 17 significant digits, integers above 2^53, a subnormal,
    /// negative zero, the largest double. Keys deliberately not in sorted order.
    static let edges: [(String, String)] = [
        ("m", "0.9661181624506228"), ("z", "0.30000000000000004"), ("big", "9007199254740993"),
        ("sub", "1e-320"), ("negzero", "-0.0"), ("huge", "1.7976931348623157e308"), ("one", "1.0"),
    ]

    static var edgesJSON: String { "{" + edges.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}" }

    /// Python, reading the file named by its first argument strictly as JSON: numbers become their canonical exact decimal
    /// (`n:` + Decimal(text).normalize(), so 1.0 and 1 agree but ...993 and ...992 do not),
    /// strings `s:`, booleans `b:`, null `null`; each object also lists its keys in order
    /// (`PATH/#keys`). Paths join keys and indexes with `/`. Each extra argument is a number
    /// text, canonicalised the same way as `arg/N`.
    static let canonScript = #"""
    import sys, json
    from decimal import Decimal
    class Num(str): pass
    class Obj(list): pass
    def bare(c): raise ValueError("bare " + c + " is not JSON")
    def canon(t): return "n:" + str(Decimal(t).normalize())
    doc = json.loads(open(sys.argv[1]).read(), parse_float=Num, parse_int=Num, parse_constant=bare, object_pairs_hook=Obj)
    out = {}
    def walk(v, p):
        if isinstance(v, Obj):
            out[p + "/#keys"] = ",".join(k for k, _ in v)
            for k, x in v: walk(x, p + "/" + k)
        elif isinstance(v, list):
            for i, x in enumerate(v): walk(x, p + "/" + str(i))
        elif isinstance(v, Num): out[p] = canon(v)
        elif isinstance(v, bool): out[p] = "b:" + ("true" if v else "false")
        elif v is None: out[p] = "null"
        else: out[p] = "s:" + v
    walk(doc, "")
    for i, t in enumerate(sys.argv[2:]): out["arg/" + str(i)] = canon(t)
    print(json.dumps(out))
    """#

    /// `text` (mlv's JSON output) read by Python as above; `numbers` canonicalised as `arg/N`.
    static func canon(_ s: Sandbox, _ text: String, numbers: [String] = []) throws -> [String: String] {
        let input = s.root + "/canon-input-" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: input))
        let r = try s.run("/usr/bin/env", ["python3", "-c", canonScript, input] + numbers, cwd: s.root)
        #expect(r.status == 0, "python could not read mlv's JSON: \(r.stderr)\n\(text.prefix(2000))")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: String]) ?? [:]
    }

    /// The canonical exact decimal of each source text, by Python.
    static func expected(_ s: Sandbox, _ texts: [String]) throws -> [String] {
        let c = try canon(s, "null", numbers: texts)
        return texts.indices.map { c["arg/\($0)"] ?? "?" }
    }

    /// The run record copies the stage's metrics file: every value the same number as its
    /// text in the file, and the file's key order (the record's other keys stay sorted).
    @Test func runRecordsCopyMetricsExactlyAndInTheFileOrder() throws {
        let s = try Sandbox()
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.write("write.sh", "mkdir -p out; cp in/x.txt out/; cat > m.json <<'EOF'\n\(Self.edgesJSON)\nEOF\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--dep", "write.sh", "--out", "out", "--metrics", "m.json", "--", "sh", "write.sh")
        try s.mlvOK("repro")
        let record = String(decoding: s.read("mlv-runs/s.json") ?? [], as: UTF8.self)
        let c = try Self.canon(s, record)
        let want = try Self.expected(s, Self.edges.map(\.1))
        for (i, (k, text)) in Self.edges.enumerated() {
            #expect(c["/metrics/m.json/\(k)"] == want[i], "metric \(k) = \(text) recorded as \(c["/metrics/m.json/\(k)"] ?? "nothing")")
        }
        #expect(c["/metrics/m.json/#keys"] == Self.edges.map(\.0).joined(separator: ","))
        // `mlv repro` again: the record is read back and the stage is up to date.
        try s.mlvOK("repro")
        // Other inputs, then the first ones again: the record comes back from the run cache,
        // with the same numbers in the same order.
        try s.write("in/x.txt", "b\n")
        try s.mlvOK("repro")
        try s.write("in/x.txt", "a\n")
        #expect(try s.mlvOK("repro").stdout.contains("run cache"))
        let again = try Self.canon(s, String(decoding: s.read("mlv-runs/s.json") ?? [], as: UTF8.self))
        for (i, (k, _)) in Self.edges.enumerated() { #expect(again["/metrics/m.json/\(k)"] == want[i]) }
        #expect(again["/metrics/m.json/#keys"] == Self.edges.map(\.0).joined(separator: ","))
    }

    /// YAML allows NaN and infinities; mlv's JSON (a run record) carries them as the strings
    /// "NaN", "Infinity", "-Infinity" (documented in README), never as bare tokens.
    @Test func yamlNaNAndInfinityGoIntoRunRecordsAsStrings() throws {
        let s = try Sandbox()
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.write("write.sh", "mkdir -p out; cp in/x.txt out/; printf 'n: .nan\\ni: .inf\\nj: -.inf\\nsub: 1e-320\\nbig: 9007199254740993\\n' > m.yaml\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in", "--dep", "write.sh", "--out", "out", "--metrics", "m.yaml", "--", "sh", "write.sh")
        try s.mlvOK("repro")
        let c = try Self.canon(s, String(decoding: s.read("mlv-runs/s.json") ?? [], as: UTF8.self))
        #expect(c["/metrics/m.yaml/n"] == "s:NaN" && c["/metrics/m.yaml/i"] == "s:Infinity" && c["/metrics/m.yaml/j"] == "s:-Infinity", "\(c)")
        let want = try Self.expected(s, ["1e-320", "9007199254740993"])
        #expect(c["/metrics/m.yaml/sub"] == want[0] && c["/metrics/m.yaml/big"] == want[1])
        #expect(c["/metrics/m.yaml/#keys"] == "n,i,j,sub,big")
    }

    /// `mlv metrics show`: JSON numbers are numbers at full precision, booleans booleans,
    /// strings strings; text and markdown print each value as written; HTML is a page.
    @Test func metricsShowPrintsValuesAsWrittenInEveryFormat() throws {
        let s = try Sandbox()
        try s.write("m.json", String(Self.edgesJSON.dropLast()) + #", "ok": true, "name": "<b>run</b>"}"#)
        try s.mlvOK("track", "--kind", "metrics", "m.json")
        try s.mlvOK("commit", "-m", "metrics")
        let json = try s.mlvOK("metrics", "show", "--format", "json").stdout
        let c = try Self.canon(s, json)
        let want = try Self.expected(s, Self.edges.map(\.1))
        var byKey: [String: String] = [:]
        for i in 0..<20 { if let k = c["/\(i)/key"] { byKey[String(k.dropFirst(2))] = c["/\(i)/value"] } }
        for (i, (k, _)) in Self.edges.enumerated() { #expect(byKey[k] == want[i], "\(k): \(byKey[k] ?? "nothing")") }
        #expect(byKey["ok"] == "b:true" && byKey["name"] == "s:<b>run</b>")

        let text = try s.mlvOK("metrics", "show").stdout
        let md = try s.mlvOK("metrics", "show", "--format", "md").stdout
        for (k, v) in Self.edges {
            #expect(text.split(separator: "\n").contains { $0.hasSuffix("  \(v)") && $0.contains(" \(k) ") }, "text lacks \(k) \(v):\n\(text)")
            #expect(md.contains("| \(v) |"), "md lacks \(v):\n\(md)")
        }
        let html = try s.mlvOK("metrics", "show", "--format", "html").stdout
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<table>") && !html.contains("|---"), "\(html)")
        #expect(html.contains("&lt;b&gt;run&lt;/b&gt;") && !html.contains("<b>run</b>"))
        for (_, v) in Self.edges { #expect(html.contains(">\(v)<"), "html lacks \(v)") }
    }

    /// Two commits of metrics (JSON) and params (YAML): every changed value in JSON is the
    /// number of the file, in every format the text of the file; a change only past 2^53 or
    /// in the 17th digit is a change; deltas are exact shortest doubles, not rounded.
    @Test func diffsCarryValuesExactlyInEveryFormat() throws {
        let s = try Sandbox()
        try s.write("metrics.json", #"{"m": 0.9661181624506228, "z": 0.3, "big": 9007199254740992, "same": 0.1}"#)
        try s.write("params.yaml", "lr: 0.001\nbig: 9007199254740992\nsub: 1e-320\nnz: 0.0\nnan: 1\ninf: 1\n")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("track", "--kind", "params", "params.yaml")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("metrics.json", #"{"m": 0.9661181624506229, "z": 0.30000000000000004, "big": 9007199254740993, "same": 0.10}"#)
        try s.write("params.yaml", "lr: 0.0011\nbig: 9007199254740993\nsub: 2e-320\nnz: -0.0\nnan: .nan\ninf: -.inf\n")
        try s.mlvOK("commit", "-m", "v2")

        let want = try Self.expected(s, ["0.9661181624506228", "0.9661181624506229", "0.3", "0.30000000000000004",
                                         "9007199254740992", "9007199254740993", "1e-320", "2e-320", "0.0", "-0.0",
                                         "1"])
        // Deltas: doubles, computed by Python's float arithmetic.
        let pyDelta = try s.run("/usr/bin/env", ["python3", "-c", "print(repr(0.30000000000000004 - 0.3)); print(repr(0.0011 - 0.001)); print(repr(2e-320 - 1e-320))"], cwd: s.root)
        let deltas = try Self.expected(s, pyDelta.stdout.split(separator: "\n").map(String.init))

        for args in [["diff", "HEAD~1", "HEAD"], ["metrics", "diff", "HEAD~1", "HEAD"], ["params", "diff", "HEAD~1", "HEAD"]] {
            let r = try s.run(mlvBinary, args + ["--format", "json"])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let c = try Self.canon(s, r.stdout)
            var rows: [String: [String: String]] = [:]
            for section in ["metrics", "params"] {
                for i in 0..<20 {
                    guard let k = c["/\(section)/\(i)/key"] else { continue }
                    var row: [String: String] = [:]
                    for f in ["old", "new", "delta", "relative"] { row[f] = c["/\(section)/\(i)/\(f)"] }
                    rows[section + ":" + k.dropFirst(2)] = row
                }
            }
            if args[0] != "params" {
                #expect(rows["metrics:m"]?["old"] == want[0] && rows["metrics:m"]?["new"] == want[1], "\(args) \(rows)")
                #expect(rows["metrics:z"]?["old"] == want[2] && rows["metrics:z"]?["new"] == want[3])
                #expect(rows["metrics:z"]?["delta"] == deltas[0], "delta rounded: \(rows["metrics:z"] ?? [:])")
                #expect(rows["metrics:big"]?["old"] == want[4] && rows["metrics:big"]?["new"] == want[5])
                #expect(rows["metrics:big"]?["delta"] == want[10], "an integer change past 2^53 is a change of 1")
            }
            if args[0] != "metrics" {
                #expect(rows["params:big"]?["old"] == want[4] && rows["params:big"]?["new"] == want[5], "\(args) \(rows)")
                #expect(rows["params:sub"]?["old"] == want[6] && rows["params:sub"]?["new"] == want[7])
                #expect(rows["params:sub"]?["delta"] == deltas[2])
                #expect(rows["params:nz"]?["old"] == want[8] && rows["params:nz"]?["new"] == want[9])
                #expect(rows["params:lr"]?["delta"] == deltas[1])
                #expect(rows["params:nan"]?["new"] == "s:NaN" && rows["params:inf"]?["new"] == "s:-Infinity", "\(rows)")
            }
        }

        // Human formats print the values as written.
        let texts = ["9007199254740992", "9007199254740993", "1e-320", "2e-320", "-0.0", "NaN", "-Infinity"]
        for format in ["text", "md", "html"] {
            let all = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", format).stdout
            for t in texts + ["0.9661181624506228", "0.9661181624506229", "0.30000000000000004"] {
                #expect(all.contains(t), "diff --format \(format) lacks \(t):\n\(all)")
            }
            let params = try s.mlvOK("params", "diff", "HEAD~1", "HEAD", "--format", format).stdout
            for t in texts { #expect(params.contains(t), "params diff --format \(format) lacks \(t):\n\(params)") }
        }
        // A value that only changed its spelling (0.1 → 0.10) is the same number.
        let text = try s.mlvOK("metrics", "diff", "HEAD~1", "HEAD").stdout
        #expect(!text.contains("same"), "\(text)")
    }

    /// `--fail-on` values print as the metric's text, in text and JSON.
    @Test func gateValuesArePrintedExactly() throws {
        let s = try Sandbox()
        try s.write("metrics.json", #"{"m": 0.5, "big": 1}"#)
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("metrics.json", #"{"m": 0.9661181624506228, "big": 9007199254740993}"#)
        try s.mlvOK("commit", "-m", "v2")
        let r = try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "new(m) > 0.9", "--fail-on", "new(big) > 0")
        #expect(r.status == 10)
        #expect(r.stdout.contains("(value 0.9661181624506228)"), "\(r.stdout)")
        let j = try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "new(big) > 0", "--format", "json")
        let c = try Self.canon(s, j.stdout)
        #expect(c["/gates/0/value"] == (try Self.expected(s, ["9007199254740993"]))[0], "\(c)")
    }

    /// JSON Lines cells keep their JSON spelling: a change in the 17th digit is a modified
    /// cell, shown exactly.
    @Test func jsonLinesCellsKeepTheirNumbers() throws {
        let s = try Sandbox()
        try s.write("data.jsonl", "{\"id\": 1, \"v\": 0.3}\n{\"id\": 2, \"v\": 9007199254740992}\n")
        try s.mlvOK("track", "data.jsonl")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data.jsonl", "{\"id\": 1, \"v\": 0.30000000000000004}\n{\"id\": 2, \"v\": 9007199254740993}\n")
        let r = try s.mlv("diff", "--key", "id", "--format", "json")
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Self.canon(s, r.stdout)
        var cells: [String] = []
        for i in 0..<4 { for j in 0..<2 {
            if let o = c["/targets/0/table/modified_rows/\(i)/cells/\(j)/old"], let n = c["/targets/0/table/modified_rows/\(i)/cells/\(j)/new"] {
                cells.append("\(o) -> \(n)")
            }
        } }
        #expect(cells.sorted() == ["s:0.3 -> s:0.30000000000000004", "s:9007199254740992 -> s:9007199254740993"], "\(cells) \(r.stdout.prefix(3000))")
    }
}

/// Column min and max of a CSV are cells of the file: printed as written, not through a double.
@Suite struct ExactColumnBoundsTests {
    @Test func minAndMaxAreTheCellsAsWritten() throws {
        let s = try Sandbox()
        try s.write("data/t.csv", "id,v\n1,0.5\n2,0.25\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", "id,v\n9007199254740993,0.30000000000000004\n-9007199254740993,1e-320\n")
        let r = try s.mlv("diff", "--format", "json")
        #expect(r.status == 0, "\(r.stderr)")
        let c = try ExactNumbersTests.canon(s, r.stdout)
        var bounds: [String: String] = [:]
        for i in 0..<2 {
            guard let tagged = c["/targets/0/table/stats/\(i)/column"] else { continue }
            let col = String(tagged.dropFirst(2))
            bounds[col + ".min"] = c["/targets/0/table/stats/\(i)/new/min"]
            bounds[col + ".max"] = c["/targets/0/table/stats/\(i)/new/max"]
        }
        // Python's csv module reads the cells; their text is what min and max must be.
        let py = try s.run("/usr/bin/env", ["python3", "-c", """
            import csv, sys
            from decimal import Decimal
            rows = list(csv.DictReader(open(sys.argv[1])))
            for col in ("id", "v"):
                cells = [r[col] for r in rows]
                print(col + ".min=s:" + min(cells, key=Decimal)); print(col + ".max=s:" + max(cells, key=Decimal))
            """, s.repo + "/data/t.csv"], cwd: s.root)
        var want: [String: String] = [:]
        for line in py.stdout.split(separator: "\n") { let kv = line.split(separator: "=", maxSplits: 1); want[String(kv[0])] = String(kv[1]) }
        #expect(want.count == 4 && bounds == want, "\(bounds) vs \(want)")
    }
}
