import Foundation
import MLVTestSupport
import Testing

/// Row and column counts of tables — in pointers (`mlv track` + commit, stage outputs) and in
/// `mlv diff` — checked against Python's csv/json modules and `csv.Sniffer`, never against
/// mlv's own output (issue 10, audit of the table readers).
@Suite struct AuditFixesReaderTests {
    /// `rows:` and `columns:` of a pointer file.
    func pointerShape(_ s: Sandbox, _ target: String) -> (rows: Int?, columns: Int?) {
        let text = String(decoding: s.read(target + ".mlv") ?? [], as: UTF8.self)
        func field(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ": ") }.flatMap { Int($0.dropFirst(name.count + 2)) }
        }
        return (field("rows"), field("columns"))
    }

    /// Rows and column names `mlv diff --format json` reports for the new side of `path`
    /// between HEAD~1 and HEAD.
    func diffShape(_ s: Sandbox, _ path: String) throws -> (rows: Int?, columns: [String]) {
        let r = try s.mlv("diff", "HEAD~1", "HEAD", "--format", "json", "--", path)
        let j = try json(r)
        let t = (j["targets"] as? [[String: Any]])?.first { $0["path"] as? String == path }
        let table = t?["table"] as? [String: Any]
        let rows = (table?["rows"] as? [String: Any])?["new"] as? Int
        let stats = (table?["stats"] as? [[String: Any]]) ?? []
        // Stats of columns the new side has (the placeholder's column is only old).
        return (rows, stats.filter { $0["new"] is [String: Any] }.compactMap { $0["column"] as? String })
    }

    /// Commits `files` (name → bytes) as a second version over a one-line placeholder, so
    /// `mlv diff HEAD~1 HEAD` reads each in full.
    func commitTwice(_ s: Sandbox, _ files: [(String, [UInt8])]) throws {
        for (name, _) in files {
            try s.write(name, name.hasSuffix(".jsonl") ? "{\"placeholder\": 1}\n" : "placeholder\nx\n")
        }
        for (name, _) in files { try s.mlvOK("track", name) }
        try s.mlvOK("commit", "-m", "placeholders")
        for (name, bytes) in files { try s.write(name, bytes) }
        try s.mlvOK("commit", "-m", "data")
    }

    // MARK: 1. headerless tables

    /// Samples, each with Python's `csv.Sniffer().has_header` and the record count of
    /// `csv.reader` (empty rows left out). Where Sniffer is known to be wrong the truth is
    /// given instead (see `firstRowIsData`): a table of text columns of varied lengths has its
    /// header (Sniffer: none), and a single line of numbers is a row (Sniffer: a header).
    static let samples = #"""
    import csv, json, random, sys
    r = random.Random(3)
    out = {}
    def put(name, text, truth=None):
        open(sys.argv[1] + "/" + name, "w", newline="").write(text)
        sniffed = csv.Sniffer().has_header(text[:65536])
        records = [row for row in csv.reader(text.splitlines(True)) if row != []]
        header = sniffed if truth is None else truth
        out[name] = {"sniffer": sniffed, "header": header, "rows": len(records) - (1 if header else 0),
                     "columns": len(records[0])}
    put("iris.csv", "".join("%.1f,%.1f,%.1f,%.1f,%s\n" % (4 + i / 100, 3.0 + (i % 7) / 10, 1.4, 0.2,
        ["Iris-setosa", "Iris-versicolor", "Iris-virginica"][i // 50]) for i in range(150)))
    put("adult.csv", "".join("%d, %s, %d, %s, %d, %s, %s, %d, %d, %s\n" % (r.randint(17, 90),
        r.choice(["State-gov", "Self-emp-not-inc", "Private", "?"]), r.randint(10000, 999999),
        r.choice(["Bachelors", "HS-grad", "11th", "Masters"]), r.randint(1, 16),
        r.choice(["Never-married", "Divorced", "Married-civ-spouse"]), r.choice(["Male", "Female"]),
        r.choice([0, 0, 2174, 14084]), r.randint(1, 99), r.choice(["<=50K", ">50K"])) for i in range(60)))
    put("penguins.csv", "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
        + "".join("Adelie,Torgersen,%s,%s,%s,%s,%s,2007\n" % (("NA",) * 4 + ("NA",) if i == 3 else
        ("%.1f" % r.uniform(32, 60), "%.1f" % r.uniform(13, 22), r.randint(170, 231), r.randint(2700, 6300),
         r.choice(["male", "female"]))) for i in range(40)))
    put("x.csv", "x1,x2,x3,y\n" + "".join("%d,%.3f,%.3f,%d\n" % (i, r.random(), r.random(), i % 2) for i in range(30)))
    put("nums.csv", "".join("%d,%.4f,%.4f\n" % (i, r.random(), r.random() * 100) for i in range(25)))
    put("names.csv", "name,city\n" + "".join("%s,%s\n" % (r.choice(["Al", "Beatrice", "Chen", "Dmitri"]),
        r.choice(["Paris", "Lima", "Ulaanbaatar", "Oslo"])) for i in range(30)), truth=True)
    put("one.csv", "1,2.5,3\n", truth=False)
    # Past the 1 MiB both the pointer and the diff sample: they must still agree.
    put("long.csv", "".join("%d,%.6f,%s\r\n" % (i, r.random(), r.choice(["cat", "dog", "bird"])) for i in range(90000)))
    print(json.dumps(out))
    """#

    @Test func headerlessTablesKeepTheirFirstRowAsSnifferReadsThem() throws {
        let s = try Sandbox()
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(try python(Self.samples, [s.root]).utf8)) as? [String: [String: Any]])
        // The samples behave as documented: Sniffer agrees with the truth except where noted.
        #expect(expected["iris.csv"]?["sniffer"] as? Bool == false && expected["adult.csv"]?["sniffer"] as? Bool == false)
        #expect(expected["penguins.csv"]?["sniffer"] as? Bool == true && expected["x.csv"]?["sniffer"] as? Bool == true)
        #expect(expected["names.csv"]?["sniffer"] as? Bool == false && expected["one.csv"]?["sniffer"] as? Bool == true)
        let names = expected.keys.sorted()
        try commitTwice(s, names.map { ($0, Array(FileManager.default.contents(atPath: s.root + "/" + $0)!)) })
        for name in names {
            let want = expected[name]!
            let rows = want["rows"] as! Int, columns = want["columns"] as! Int, header = want["header"] as! Bool
            let p = pointerShape(s, name)
            #expect(p.rows == rows && p.columns == columns, "\(name): pointer \(p), Python \(rows) rows × \(columns)")
            let d = try diffShape(s, name)
            #expect(d.rows == rows, "\(name): diff says \(d.rows.map(String.init) ?? "nil") rows, Python \(rows)")
            #expect(d.columns.count == columns && (d.columns.first == "column_1") == !header, "\(name): \(d.columns)")
        }
        // The audit's repro: an edit of the first row's first value is a cell change, not a
        // column renamed.
        var iris = String(decoding: s.read("iris.csv")!, as: UTF8.self)
        iris.replaceSubrange(iris.startIndex..<iris.index(iris.startIndex, offsetBy: 3), with: "9.9")
        try s.write("iris.csv", iris)
        let j = try json(try s.mlv("diff", "--format", "json", "--", "iris.csv"))
        let t = try #require((j["targets"] as? [[String: Any]])?.first { $0["path"] as? String == "iris.csv" })
        let cols = (t["table"] as? [String: Any])?["columns"] as? [String: Any]
        #expect((cols?["added"] as? [Any])?.isEmpty == true && (cols?["removed"] as? [Any])?.isEmpty == true, "\(t)")
        let rows = (t["table"] as? [String: Any])?["rows"] as? [String: Any]
        #expect(rows?["old"] as? Int == 150 && rows?["new"] as? Int == 150, "\(rows ?? [:])")
    }

    // MARK: 2. blank lines

    /// Files with blank lines (end, middle, CRLF, BOM, inside quotes, a `""` row), big enough
    /// for some to span many chunks; Python counts `csv.reader`'s non-empty rows.
    static let blanks = #"""
    import csv, io, json, random, sys
    r = random.Random(5)
    out = {}
    def put(name, data):
        open(sys.argv[1] + "/" + name, "wb").write(data)
        text = data.decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row != []]
        out[name] = {"rows": len(rows) - 1, "columns": len(rows[0])}
    put("o.csv", b"a,b\n1,2\n3,4\n\n")
    body = "".join("%d,%s\r\n" % (i, r.choice(["x", "y"])) for i in range(50))
    put("bom.csv", ("\ufeffid,v\r\n" + body + "\r\n").encode())
    put("bommid.csv", ("\ufeffid,v\r\n" + body[:40] + "\r\n" + body[40:] + "\r\n").encode())
    put("lead.csv", b"\n\r\nid,v\n1,a\n\n2,b")
    put("quoted.csv", b'id,text\n1,"two\n\nlines"\n\n2,"a ""q"" \r\n\r\n"\n\n')
    put("single.csv", b'v\n1\n""\n\n2\n')
    big = []
    for i in range(200000):
        big.append("%d,%s,%.3f\n" % (i, r.choice(["a", "bb", '"c\n\nd"']) if i > 150000 else "t%d" % (i % 97), r.random()))
        if i % 997 == 0: big.append("\n")
        if i % 1499 == 0: big.append("\r\n")
    put("big.csv", ("id,s,x\n" + "".join(big)).encode())
    print(json.dumps(out))
    """#

    @Test func pointerAndDiffRowCountsLeaveBlankLinesOutAsPythonDoes() throws {
        let s = try Sandbox()
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(try python(Self.blanks, [s.root]).utf8)) as? [String: [String: Int]])
        let names = expected.keys.sorted()
        try commitTwice(s, names.map { ($0, Array(FileManager.default.contents(atPath: s.root + "/" + $0)!)) })
        for name in names {
            let rows = expected[name]!["rows"]!, columns = expected[name]!["columns"]!
            let p = pointerShape(s, name)
            #expect(p.rows == rows && p.columns == columns, "\(name): pointer \(p), Python \(rows) rows × \(columns)")
            #expect(try diffShape(s, name).rows == rows, "\(name): diff vs Python \(rows)")
        }
        let log = try #require(try JSONSerialization.jsonObject(with: try s.mlvOK("log", "--json", "o.csv").stdoutBytes) as? [[String: Any]])
        let change = (log.first?["changes"] as? [[String: Any]])?.first
        #expect(change?["rows"] as? Int == expected["o.csv"]!["rows"])

        // A stage's output goes through the same count.
        try s.write("in.txt", "x\n")
        try s.mlvOK("stage", "add", "s", "--dep", "in.txt", "--out", "out.csv", "--", "sh", "-c", "printf 'a,b\\n1,2\\n3,4\\n\\n\\n' > out.csv")
        try s.mlvOK("repro")
        #expect(pointerShape(s, "out.csv").rows == 2, "\(String(decoding: s.read("out.csv.mlv") ?? [], as: UTF8.self))")
    }

    // MARK: 3. JSON Lines

    @Test func jsonLinesCountsAndKeysAfterTheFirstLine() throws {
        let s = try Sandbox()
        let text = "{\"a\": 1, \"b\": \"x\"}\n\n{\"a\": 2, \"c\": true}\n  \n{\"b\": \"y\", \"d\": null}\n{\"a\": 3}"
        let want = try python("""
            import json, sys
            keys = []
            rows = [json.loads(l) for l in sys.argv[1].split("\\n") if l.strip()]
            for o in rows:
                for k in o:
                    if k not in keys: keys.append(k)
            print(len(rows), ",".join(keys))
            """, [text]).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        let rows = Int(want[0])!, keys = want[1].split(separator: ",").map(String.init)
        try commitTwice(s, [("t.jsonl", Array(text.utf8))])
        let p = pointerShape(s, "t.jsonl")
        #expect(p.rows == rows && p.columns == keys.count, "pointer \(p), Python \(rows) rows, keys \(keys)")
        let d = try diffShape(s, "t.jsonl")
        #expect(d.rows == rows && d.columns == keys, "diff \(d), Python \(rows) rows, keys \(keys)")
        let log = try #require(try JSONSerialization.jsonObject(with: try s.mlvOK("log", "--json", "t.jsonl").stdoutBytes) as? [[String: Any]])
        let change = (log.first?["changes"] as? [[String: Any]])?.first
        #expect(change?["rows"] as? Int == rows && change?["columns"] as? Int == keys.count)
    }
}
