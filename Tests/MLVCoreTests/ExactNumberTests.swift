import Foundation
import Testing
@testable import MLVCore

/// The one reader of numbers in users' files (issue 10, item 2): what the file says is what
/// mlv keeps. Expectations are the literal texts written here, the doubles Swift's own
/// correctly rounded `Double(String)` gives for them, and JSONEncoder's layout for the writer.
@Suite struct ExactNumberTests {
    static let edges = ["0.9661181624506228", "0.30000000000000004", "9007199254740993", "1e-320", "-0.0",
                        "1.7976931348623157e308", "1.0", "-12", "5E-324", "123456789012345678901234567890"]

    /// Same bits: -0.0 is not 0.0 here.
    func same(_ a: Double?, _ b: Double?) -> Bool { a?.bitPattern == b?.bitPattern }

    @Test func jsonMetricsKeepTheirTextAndTheirDouble() throws {
        for t in Self.edges {
            let m = try flattenMetrics(Array("{\"k\": \(t)}".utf8), path: "m.json")
            #expect(m["k"]?.description == t, "\(t) read as \(m["k"]?.description ?? "nothing")")
            #expect(same(m["k"]?.number, Double(t)), "\(t) read as the double \(m["k"]?.number ?? 0)")
        }
    }

    @Test func yamlAndCsvMetricsKeepTheirText() throws {
        for t in Self.edges {
            let y = try flattenMetrics(Array("k: \(t)\n".utf8), path: "m.yaml")
            #expect(y["k"]?.description == t && same(y["k"]?.number, Double(t)), "yaml \(t): \(y)")
            let c = try flattenMetrics(Array("k\n\(t)\n".utf8), path: "m.csv")
            #expect(c["k"]?.description == t && same(c["k"]?.number, Double(t)), "csv \(t): \(c)")
        }
        // YAML-only spellings: the shortest text of the value YAML gives them.
        let y = try flattenMetrics(Array("a: .nan\nb: .inf\nc: -.inf\nd: 0x1F\ne: 1_000\nf: +0.5\ng: 9_007_199_254_740_993\n".utf8), path: "m.yaml")
        #expect(y["a"]?.description == "NaN" && y["a"]?.number?.isNaN == true)
        #expect(y["b"]?.description == "Infinity" && y["c"]?.description == "-Infinity" && y["c"]?.number == -.infinity)
        #expect(y["d"]?.description == "31" && y["e"]?.description == "1000" && y["f"]?.description == "0.5")
        #expect(y["g"]?.description == "9007199254740993", "an integer YAML reads exactly stays exact: \(y)")
    }

    /// Python's json module writes bare NaN and Infinity; mlv reads them as those numbers.
    @Test func pythonsNonFiniteTokensRead() throws {
        let m = try flattenMetrics(Array(#"{"a": NaN, "b": Infinity, "c": -Infinity}"#.utf8), path: "m.json")
        #expect(m["a"]?.number?.isNaN == true && m["b"]?.number == .infinity && m["c"]?.number == -.infinity)
        #expect(throws: JSONSyntaxError.self) { try JSONReader.parse(Array("NaN".utf8), nonFinite: false) }
    }

    @Test func equalityIsTheExactDecimalValue() {
        func n(_ t: String) -> ExactNumber { ExactNumber(parsing: t)! }
        #expect(n("9007199254740993") != n("9007199254740992"), "different integers past 2^53 are different")
        #expect(n("1.0") == n("1") && n("0.10") == n("1e-1") && n("100") == n("1E2"))
        #expect(n("-0.0") != n("0.0") && n("-0.0") == n("-0"))
        #expect(n("0.30000000000000004") != n("0.3"))
        #expect(ExactNumber(.nan) == ExactNumber(.nan), "an unchanged NaN metric is unchanged")
        let ch = compareMetrics(file: "m.json", old: ["big": .number(n("9007199254740992")), "z": .number(n("0.3"))],
                                new: ["big": .number(n("9007199254740993")), "z": .number(n("0.30000000000000004"))])
        #expect(ch[0].delta == 1, "the exact integer difference")
        #expect(ch[1].delta == Double("0.30000000000000004")! - Double("0.3")!)
    }

    @Test func readerKeepsKeyOrderAndRefusesWhatIsNotJSON() throws {
        let v = try JSONReader.parse(Array(#"{"z": 1, "a": {"y": 2, "b": 3}, "z": 4, "s": "\ud83d\ude00\n\u00e9"}"#.utf8))
        guard case .object(let o) = v else { Issue.record("not an object"); return }
        #expect(o.map(\.key) == ["z", "a", "s"], "a repeated key keeps its first place")
        if case .number(let z)? = v["z"] { #expect(z.text == "4", "and its last value") } else { Issue.record("z") }
        #expect(v["s"]?.string == "😀\né")
        let m = try flattenMetricsInOrder(Array(#"{"z": 1, "a": {"y": 2, "b": 3}}"#.utf8), path: "m.json")
        #expect(m.keys == ["z", "a.y", "a.b"])
        #expect(try JSONReader.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)).self != nil)
        for bad in ["{\"a\": 1,}", "[01]", "[1.]", "[.5]", "[+1]", "{'a': 1}", "[1] 2", "\"a\u{01}\"", "\"\\ud800\"",
                    "\"\\x\"", "[", "", "tru", "[1e]", "nan"] {
            #expect(throws: JSONSyntaxError.self, "\(bad.debugDescription)") { try JSONReader.parse(Array(bad.utf8)) }
        }
        #expect(throws: JSONSyntaxError.self) { try JSONReader.parse([0x22, 0xFF, 0x22]) }
        // Deep nesting is refused, not a stack overflow.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONReader.parse(Array(deep.utf8)) }
        #expect(throws: DiffError.self) { try flattenMetrics(Array(deep.utf8), path: "m.json") }
        let ok = String(repeating: "[", count: 500) + "1" + String(repeating: "]", count: 500)
        #expect(try flattenMetrics(Array(ok.utf8), path: "m.json").count == 1)
    }

    /// The writer lays JSON out as JSONEncoder's pretty, sorted output does (reports and run
    /// records keep their look), for everything JSONEncoder can carry exactly.
    @Test func writerMatchesJSONEncoderLayout() throws {
        struct Inner: Codable { var b: Bool; var n: Int?; var list: [Int]; var empty: [String: Int] }
        struct Sample: Codable {
            var name: String; var d: Double; var whole: Double; var neg: Int64; var none: String?
            var inner: Inner; var rows: [[String: String]]; var nested: [[Int]]
        }
        let v = Sample(name: "a\"b\\c/d\n\t\u{01}é😀", d: 0.5, whole: 200, neg: -3, none: nil,
                       inner: Inner(b: true, n: nil, list: [], empty: [:]), rows: [["z": "1", "a": "2"], [:]], nested: [[1, 2], []])
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let want = String(decoding: try e.encode(v), as: UTF8.self)
        let got = String(decoding: try JSONOutput.encode(v, pretty: true), as: UTF8.self)
        #expect(got == want, "\(got)\n---\n\(want)")
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(String(decoding: try JSONOutput.encode(v, pretty: false), as: UTF8.self) == String(decoding: try e.encode(v), as: UTF8.self))
    }

    @Test func writerPrintsNumbersExactlyAndNonFiniteAsStrings() throws {
        var m = OrderedMetrics()
        for (i, t) in Self.edges.enumerated() { m["k\(9 - i)"] = .number(ExactNumber(parsing: t)!) }
        m["nan"] = .number(ExactNumber(.nan)); m["inf"] = .number(ExactNumber(-.infinity)); m["flag"] = .bool(false)
        let text = String(decoding: try JSONOutput.encode(m, pretty: false), as: UTF8.self)
        let want = "{" + Self.edges.enumerated().map { "\"k\(9 - $0.offset)\":\($0.element)" }.joined(separator: ",") +
            ",\"nan\":\"NaN\",\"inf\":\"-Infinity\",\"flag\":false}"
        #expect(text == want)
        #expect(String(decoding: try JSONOutput.encode([Double.nan, 1e300, -0.0, 0.1], pretty: false), as: UTF8.self) == "[\"NaN\",1e+300,-0.0,0.1]")
    }

    @Test func runRecordsRoundTripExactly() throws {
        var m = OrderedMetrics()
        for (i, t) in Self.edges.enumerated() { m["m\(9 - i)"] = .number(ExactNumber(parsing: t)!) }
        m["nan"] = .number(ExactNumber(.nan)); m["name"] = .text("x")
        let r = RunRecord(stage: "s", definition: "d", fingerprint: "f", command: ["sh", "-c", "x"], inputs: ["in": "1"],
                          params: ["p.yaml:lr": "0.001"], environment: [:], tools: [:], outputs: ["out": "2"],
                          metrics: .byFile(["m.json": m, "a.yaml": m]), durationSeconds: 0.25, exitCode: 0)
        let back = RunRecord(json: try JSONOutput.encode(r, pretty: true))
        #expect(back == r)
        if case .byFile(let files)? = back?.metrics { #expect(files["m.json"]?.keys == m.keys) } else { Issue.record("\(String(describing: back))") }
        // A record from before metrics were kept per file (one flat object) reads back as
        // that, and is written again as it was.
        var flat = r
        flat.metrics = .flat(m)
        let bytes = try JSONOutput.encode(flat, pretty: true)
        #expect(RunRecord(json: bytes) == flat)
        #expect(try RunRecord(json: bytes).map { try JSONOutput.encode($0, pretty: true) } == bytes)
        #expect(RunRecord(json: Array("{\"stage\": 1}".utf8)) == nil)
    }

    /// Differential check against Python's json module: on mutated JSON texts, the reader
    /// accepts exactly what Python accepts (Python also reads bare NaN/Infinity), and yields
    /// the same strings and the same number texts, in document order.
    @Test func readerAgreesWithPythonsJSON() throws {
        let seeds = [#"{"a": [1, -0.0, 2.5e-3, {"b": "x\ny\u00e9\t"}], "c": true, "d": null, "e": NaN}"#,
                     #"[0, 10, -1E+2, 0.30000000000000004, 9007199254740993, "\"\\\/\b\f\r", [], {}, -Infinity]"#,
                     #"{"k": {"l": [false, 1e-320, "\ud83d\ude00"]}, "k": Infinity}"#, "  3  ", "\"s\""]
        let alphabet = Array("{}[],:\"\\0123456789-+.eE ntfalsruNI\u{e9}x\n\t".unicodeScalars)
        // SplitMix64, seeded: the same 3,000 cases on every run.
        struct Seeded: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state &+= 0x9E3779B97F4A7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
                z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
                return z ^ (z >> 31)
            }
        }
        var rng = Seeded(state: 0x6d6c76)
        var cases: [String] = seeds
        for _ in 0..<3000 {
            var u = Array(seeds.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0...u.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where i < u.count: u.remove(at: i)
                case 1: u.insert(alphabet.randomElement(using: &rng)!, at: i)
                default: if i < u.count { u[i] = alphabet.randomElement(using: &rng)! }
                }
            }
            var t = ""; t.unicodeScalars.append(contentsOf: u); cases.append(t)
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("numbers-json-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: input) }
        try JSONSerialization.data(withJSONObject: cases).write(to: input)
        let script = """
        import json, sys
        out = []
        for t in json.load(open(sys.argv[1])):
            leaves = []
            class Num(str): pass
            def walk(v):
                if isinstance(v, dict):
                    for k, x in v.items(): leaves.append("k:" + k); walk(x)
                elif isinstance(v, list):
                    for x in v: walk(x)
                elif isinstance(v, Num): leaves.append("n:" + v)
                elif isinstance(v, str): leaves.append("s:" + v)
            try:
                walk(json.loads(t, parse_float=Num, parse_int=Num, parse_constant=Num))
                # Every string, repeated keys' values included: Python keeps a lone
                # surrogate, a Swift string cannot hold one.
                class Pairs(list): pass
                def strings(v):
                    if isinstance(v, Pairs):
                        for k, x in v: yield k; yield from strings(x)
                    elif isinstance(v, list):
                        for x in v: yield from strings(x)
                    elif isinstance(v, str): yield v
                try:
                    "".join(strings(json.loads(t, object_pairs_hook=Pairs, parse_constant=float))).encode("utf-8")
                    out.append(leaves)
                except UnicodeEncodeError:
                    out.append("lone surrogate")
            except (ValueError, RecursionError):
                out.append(None)
        print(json.dumps(out))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, input.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let verdicts = try #require(try JSONSerialization.jsonObject(with: data) as? [Any])
        #expect(verdicts.count == cases.count)
        var disagreements: [String] = []
        for (t, v) in zip(cases, verdicts) {
            // Python keeps a repeated key once, at its first place, like the reader; object
            // keys are compared as Python lists them.
            if v as? String == "lone surrogate" { #expect((try? JSONReader.parse(Array(t.utf8))) == nil); continue }
            let python = v as? [String]
            var mine: [String]? = nil
            if let parsed = try? JSONReader.parse(Array(t.utf8)) {
                var leaves: [String] = []
                func walk(_ x: JSONValue) {
                    switch x {
                    case .object(let o): for (k, y) in o { leaves.append("k:" + k); walk(y) }
                    case .array(let a): a.forEach(walk)
                    case .string(let s): leaves.append("s:" + s)
                    case .number(let n): leaves.append("n:" + n.text)
                    default: break
                    }
                }
                walk(parsed)
                mine = leaves
            }
            if mine != python { disagreements.append("\(t.debugDescription): mlv \(mine.map { "\($0)" } ?? "refused"), python \(python.map { "\($0)" } ?? "refused")") }
        }
        #expect(disagreements.count == 0, "\(disagreements.prefix(10).joined(separator: "\n"))")
    }
}
