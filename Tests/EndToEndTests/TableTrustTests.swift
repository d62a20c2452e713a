import Foundation
import MLVTestSupport
import Testing

/// Figures of tabular diffs checked against Python's csv module and the data the tests
/// generate, never against mlv's own output (issue 10, items 4, 5, 6 and 17).
@Suite struct TableTrustTests {
    func target(_ report: [String: Any], _ path: String) -> [String: Any]? {
        (report["targets"] as? [[String: Any]])?.first { $0["path"] as? String == path }
    }

    func stats(_ report: [String: Any], _ path: String) -> [[String: Any]] {
        ((target(report, path)?["table"] as? [String: Any])?["stats"] as? [[String: Any]]) ?? []
    }

    /// Python's view of a CSV: per column (by position), the number of distinct non-null
    /// values and the mean of the numeric ones, as JSON.
    static let profile = """
    import csv, json, sys
    NULLS = {"", "NA", "NaN", "nan", "N/A", "null", "NULL", "None"}
    rows = list(csv.reader(open(sys.argv[1], newline="")))
    out = []
    for j in range(len(rows[0])):
        vals = [r[j] for r in rows[1:] if r[j] not in NULLS]
        nums = []
        for v in vals:
            try: nums.append(float(v))
            except ValueError: pass
        out.append({"distinct": len(set(vals)), "mean": sum(nums) / len(nums) if nums and len(nums) == len(vals) else None})
    print(json.dumps(out))
    """

    func pythonProfile(_ s: Sandbox, _ file: String) throws -> [[String: Any]] {
        let out = try python(TableTrustTests.profile, [s.repo + "/" + file])
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
    }

    // MARK: 4. distinct

    @Test func distinctIsExactAndAgreesWithPython() throws {
        let s = try Sandbox()
        // 600 unique ids (HyperLogLog said 588) and a column of about 4,000 distinct user
        // names with nulls among them, like the real column that gave 4,012 for 4,042.
        let gen = """
        import random, sys
        r = random.Random(7)
        n = int(sys.argv[2])
        with open(sys.argv[1], "w") as f:
            f.write("id,user,score\\n")
            for i in range(n):
                u = "" if i % 97 == 0 else ("NA" if i % 89 == 0 else f"user_{r.randint(0, 5200)}")
                f.write(f"{r.randint(0, 10**9) * 1000 + i},{u},{r.randint(0, 3000) / 8}\\n")
        """
        _ = try python(gen, [s.repo + "/d.csv", "600"])
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        let oldProfile = try pythonProfile(s, "d.csv")
        _ = try python(gen, [s.repo + "/d.csv", "20000"])
        let newProfile = try pythonProfile(s, "d.csv")
        let report = try json(try s.mlvOK("diff", "--format", "json"))
        let st = stats(report, "d.csv")
        #expect(st.count == 3)
        for (j, c) in st.enumerated() {
            let old = c["old"] as? [String: Any], new = c["new"] as? [String: Any]
            #expect(old?["distinct"] as? Int == oldProfile[j]["distinct"] as? Int, "column \(j) old")
            #expect(new?["distinct"] as? Int == newProfile[j]["distinct"] as? Int, "column \(j) new")
            #expect(old?["distinct_exact"] as? Bool == true && new?["distinct_exact"] as? Bool == true)
            #expect(new?["distinct_error"] == nil)
        }
        #expect(oldProfile[0]["distinct"] as? Int == 600)
        let text = try s.mlvOK("diff").stdout
        #expect(!text.contains("≈"), "\(text)")
    }

    @Test func distinctStaysExactPastTheMemoryBudget() throws {
        var s = try Sandbox()
        // 64 KiB of hash tables hold about 2,900 values: 200,000 rows must spill many times.
        s.env["MLV_DISTINCT_MEMORY"] = "65536"
        try s.write("d.csv", "k,v\n")
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        _ = try python("""
        import random, sys
        r = random.Random(3)
        with open(sys.argv[1], "w") as f:
            f.write("k,v\\n")
            for i in range(200000):
                f.write(f"k{r.randint(0, 250000)},{r.random():.4f}\\n")
        """, [s.repo + "/d.csv"])
        let want = try pythonProfile(s, "d.csv")
        let st = stats(try json(try s.mlvOK("diff", "--format", "json")), "d.csv")
        for (j, c) in st.enumerated() {
            let new = c["new"] as? [String: Any]
            #expect(new?["distinct"] as? Int == want[j]["distinct"] as? Int, "column \(j)")
            #expect(new?["distinct_exact"] as? Bool == true)
        }
    }

    @Test func pastTheDiskLimitDistinctIsAMarkedEstimateInEveryFormat() throws {
        var s = try Sandbox()
        s.env["MLV_DISTINCT_MEMORY"] = "65536"
        s.env["MLV_DISTINCT_SPILL"] = "100000"
        try s.write("d.csv", "k\n")
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("d.csv", "k\n" + (0..<30_000).map { "id\($0)\n" }.joined())
        let st = stats(try json(try s.mlvOK("diff", "--format", "json")), "d.csv")
        let new = try #require(st.first?["new"] as? [String: Any])
        #expect(new["distinct_exact"] as? Bool == false)
        let err = try #require(new["distinct_error"] as? Double)
        #expect(err > 0 && err < 0.05)
        let n = try #require(new["distinct"] as? Int)
        #expect(abs(Double(n) - 30_000) / 30_000 < 4 * err, "\(n)")
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("diff", "--format", format).stdout
            #expect(out.contains("≈\(n)"), "\(format): \(out)")
        }
    }

    // MARK: 5. columns by position

    @Test func repeatedColumnNamesKeepTheirOwnStatistics() throws {
        let s = try Sandbox()
        try s.write("p.csv", "id,Polls,Polls\n1,10,500\n2,20,700\n")
        try s.mlvOK("track", "p.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("p.csv", "id,Polls,Polls\n1,10,500\n2,20,750\n3,30,900\n")
        let want = try pythonProfile(s, "p.csv")
        let report = try json(try s.mlvOK("diff", "--key", "id", "--format", "json"))
        let st = stats(report, "p.csv")
        #expect(st.map { $0["index"] as? Int } == [0, 1, 2])
        for (j, c) in st.enumerated() {
            let new = c["new"] as? [String: Any]
            let m = new?["mean"] as? Double ?? .nan, w = want[j]["mean"] as? Double ?? .nan
            #expect(abs(m - w) <= 1e-12 * abs(w), "column \(j): \(c) vs \(w)")
            #expect(new?["index"] as? Int == j)
        }
        let names = st.compactMap { $0["column"] as? String }
        #expect(Set(names).count == 3, "\(names)")
        let table = try #require(target(report, "p.csv")?["table"] as? [String: Any])
        let cells = (table["modified_rows"] as? [[String: Any]])?.first?["cells"] as? [[String: Any]]
        #expect(cells?.count == 1 && cells?.first?["index"] as? Int == 2 && cells?.first?["new"] as? String == "750")
        let added = (table["added_sample"] as? [[String: String]])?.first ?? [:]
        #expect(Set(added.values) == ["3", "30", "900"], "\(added)")
        // The text report tells the two apart.
        let text = try s.mlvOK("diff", "--key", "id").stdout
        #expect(text.contains("Polls (column 2)") && text.contains("Polls (column 3)"), "\(text)")
        // A repeated name is no key.
        let r = try s.mlv("diff", "--key", "Polls")
        #expect(r.status == 2 && r.stderr.contains("appears 2 times"), "\(r.stderr)")
    }

    @Test func aTableWithoutAHeaderIsReadAsData() throws {
        let s = try Sandbox()
        try s.write("h.csv", "1,2.5,3\n4,5,6\n")
        try s.mlvOK("track", "h.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("h.csv", "1,2.5,3\n4,5,6\n7,8,9\n")
        // Every line is a row: Python's rows, no header.
        let rows = try python("import csv,sys,json; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))", [s.repo + "/h.csv"])
        let data = try #require(try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [[String]])
        let report = try json(try s.mlvOK("diff", "--format", "json"))
        let table = try #require(target(report, "h.csv")?["table"] as? [String: Any])
        #expect((table["rows"] as? [String: Any])?["new"] as? Int == data.count)
        let st = stats(report, "h.csv")
        #expect(st.map { $0["column"] as? String } == ["column_1", "column_2", "column_3"])
        let firstMean = data.map { Double($0[0])! }.reduce(0, +) / Double(data.count)
        #expect((st.first?["new"] as? [String: Any])?["mean"] as? Double == firstMean)
    }

    // MARK: 6. RFC 4180 bytes

    @Test func lineBreaksInsideQuotesKeepTheirBytes() throws {
        let s = try Sandbox()
        try s.write("q.csv", "id,note\r\n")
        try s.mlvOK("track", "q.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("q.csv", "id,note\r\n1,\"a\r\nb\"\r\n2,\"c\nd\"\r\n3,\"say \"\"hi\"\"\r\n\"\r\n")
        let py = try python("import csv,sys,json; r=list(csv.reader(open(sys.argv[1], newline=''))); print(json.dumps([dict(zip(r[0], x)) for x in r[1:]]))", [s.repo + "/q.csv"])
        let want = try #require(try JSONSerialization.jsonObject(with: Data(py.utf8)) as? [[String: String]])
        #expect(want.count == 3)
        let table = try #require(target(try json(try s.mlvOK("diff", "--rows", "10", "--format", "json")), "q.csv")?["table"] as? [String: Any])
        let got = try #require(table["added_sample"] as? [[String: String]])
        #expect(got.map { $0.mapValues { Array($0.utf8) } } == want.map { $0.mapValues { Array($0.utf8) } }, "\(got) vs \(want)")
    }

    // MARK: 17. a table that does not parse

    @Test func aRaggedTableGetsAByteSummaryAndAWarningAndTheReportStands() throws {
        let s = try Sandbox()
        try s.write("good.csv", "id,v\n1,2\n")
        try s.write("bad.csv", "a,b\n1,2\n")
        try s.write("open.csv", "a,b\n1,2\n")
        try s.mlvOK("track", "good.csv", "bad.csv", "open.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("good.csv", "id,v\n1,2\n2,3\n")
        let badText = "a,b\n1,2\n3,4\n5,6,7\n8,9\n"
        try s.write("bad.csv", badText)
        try s.write("open.csv", "a,b\n1,2\n3,\"unclosed\n4,5\n")
        // Python finds the ragged record's line; the unclosed quote opens on line 3.
        let badLine = try python("import csv,sys; r=csv.reader(open(sys.argv[1], newline='')); h=next(r); print(next(r.line_num for x in r if len(x) != len(h)))", [s.repo + "/bad.csv"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(badLine == "4")

        let r = try s.mlv("diff")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("rows 1 → 2"), "\(r.stdout)")                 // good.csv compared
        #expect(r.stdout.contains("warning: bad.csv@working tree:\(badLine):"), "\(r.stdout)")
        #expect(r.stdout.contains("warning: open.csv@working tree:3: a quoted field is never closed"), "\(r.stdout)")
        #expect(r.stderr.contains("bad.csv@working tree:\(badLine):"), "\(r.stderr)")
        #expect(try s.mlv("diff", "--exit-code").status == 1)

        let report = try json(try s.mlvOK("diff", "--format", "json"))
        let bad = try #require(target(report, "bad.csv"))
        let warnings = try #require(bad["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].contains("bad.csv@working tree:\(badLine):") && warnings[0].contains("3 fields where the header has 2"))
        #expect((bad["binary"] as? [String: Any]) != nil && bad["new_size"] as? Int == badText.utf8.count && bad["old_size"] as? Int == 8)
        #expect(target(report, "good.csv")?["table"] != nil)
        #expect((target(report, "open.csv")?["warnings"] as? [String])?.count == 1)

        let md = try s.mlvOK("diff", "--format", "md").stdout
        #expect(md.contains("bad.csv@working tree:\(badLine):") && md.contains("open.csv@working tree:3:"), "\(md)")
        let html = try s.mlvOK("diff", "--format", "html").stdout
        #expect(html.contains("bad.csv@working tree:\(badLine):") && html.contains("open.csv@working tree:3:"), "\(html)")

        // A drift gate cannot pass on a table it could not read: exit 2 after the report.
        let g = try s.mlv("diff", "--fail-on", "drift(bad.csv) > 0.2")
        #expect(g.status == 2 && g.stdout.contains("good.csv") && g.stderr.contains("cannot be decided"), "\(g.status) \(g.stderr)")
        #expect(try s.mlv("diff", "--fail-on", "drift(good.csv) > 100").status == 0)

        // Committing it works: data is data.
        try s.mlvOK("commit", "-m", "v2")
        #expect(try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "json").stdout.contains("3 fields where the header has 2"))
    }
}

/// A folder's diff compares its first five changed tables: the others are named in a warning,
/// and a drift gate over them cannot pass unseen.
@Suite struct FolderTablesTrustTests {
    @Test func changedTablesPastTheFirstFiveAreNamed() throws {
        let s = try Sandbox()
        let names = (1...6).map { "t\($0).csv" }
        for n in names { try s.write("dir/" + n, "id,v\n1,2\n") }
        try s.mlvOK("track", "dir")
        try s.mlvOK("commit", "-m", "v1")
        for n in names { try s.write("dir/" + n, "id,v\n1,2\n2,900\n") }
        let r = try s.mlvOK("diff", "--format", "json")
        let report = try #require(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any])
        let t = try #require((report["targets"] as? [[String: Any]])?.first)
        #expect((t["tables"] as? [String: Any])?.count == 5)
        let w = (t["warnings"] as? [String]) ?? []
        #expect(w.count == 1 && w[0].contains("dir/t6.csv"), "\(w)")
        let g = try s.mlv("diff", "--fail-on", "drift(dir) > 100")
        #expect(g.status == 2 && g.stderr.contains("dir/t6.csv was not compared"), "\(g.status) \(g.stderr)")
        #expect(try s.mlv("diff", "--fail-on", "drift(dir/t1.csv) > 100").status == 0)
    }
}

/// The rows × columns a pointer records, against Python's csv module, for the tables whose
/// lines are not their records: quoted line breaks (LF and CR LF), a ragged row, no header.
@Suite struct PointerShapeTrustTests {
    @Test func pointerRowsCountRecordsNotLines() throws {
        let s = try Sandbox()
        let files: [(String, String, Bool)] = [
            ("quoted.csv", "id,note\n1,\"two\nlines\"\n2,\"three\r\nmore\nlines\"\n3,\"a \"\"q\"\"\n\"\n4,plain\n", true),
            ("crlf.csv", "id,note\r\n1,\"x\r\ny\"\r\n2,z\r\n", true),
            ("ragged.csv", "a,b\n1,2\n3,4,5\n6\n7,8\n", true),
            ("stray.csv", "h,w\n5'11\",180\n6'0\",\"x\ny\"\n", true),
            ("numbers.csv", "1,2.5,3\n4,5,6\n7,8,9\n", false),
            ("quoted.tsv", "k\tv\n1\t\"a\nb\"\n2\tc\n", true),
        ]
        for (name, text, _) in files { try s.write(name, text) }
        try s.write("open.csv", "a,b\n1,\"never closed\n2,3\n")
        try s.mlvOK("track", "quoted.csv", "crlf.csv", "ragged.csv", "stray.csv", "numbers.csv", "quoted.tsv", "open.csv")
        try s.mlvOK("commit", "-m", "tables")
        for (name, _, hasHeader) in files {
            let delim = name.hasSuffix(".tsv") ? "\\t" : ","
            let py = try s.run("/usr/bin/env", ["python3", "-c", "import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=''), delimiter='\(delim)')); print(len(r) - \(hasHeader ? 1 : 0), len(r[0]))", s.repo + "/" + name])
            let want = py.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            let ptr = String(decoding: s.read(name + ".mlv") ?? [], as: UTF8.self)
            #expect(want.count == 2, "python: \(py.stderr)")
            #expect(ptr.contains("rows: \(want.first ?? "?")\n") && ptr.contains("columns: \(want.last ?? "?")\n"), "\(name): python says \(want), pointer \(ptr)")
        }
        // A file that ends inside quotes has no record count to give: none is claimed.
        let open = String(decoding: s.read("open.csv.mlv") ?? [], as: UTF8.self)
        #expect(!open.contains("rows:"), "\(open)")
    }
}

extension TableTrustTests {
    // MARK: drift

    /// Drift is the population stability index as documented (ten bins cut at the old
    /// side's deciles, empty bins floored at 1e-4; categories for text), computed here
    /// independently in Python on columns small enough that the sample is every value.
    @Test func driftIsThePSIPythonComputes() throws {
        let s = try Sandbox()
        let gen = """
        import random, sys
        r = random.Random(int(sys.argv[2]))
        shift = float(sys.argv[3])
        with open(sys.argv[1], "w") as f:
            f.write("x,c\\n")
            for i in range(1500):
                f.write(f"{r.gauss(shift, 1):.6f},{r.choice('abcde' if shift == 0 else 'abcdeef')}\\n")
        """
        _ = try python(gen, [s.repo + "/d.csv", "1", "0"])
        try s.mlvOK("track", "d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try FileManager.default.copyItem(atPath: s.repo + "/d.csv", toPath: s.root + "/old.csv")
        _ = try python(gen, [s.repo + "/d.csv", "2", "0.5"])
        let want = try python("""
        import csv, json, math, sys, bisect
        def cols(p):
            rows = list(csv.reader(open(p, newline='')))[1:]
            return [float(r[0]) for r in rows], [r[1] for r in rows]
        (xa, ca), (xb, cb) = cols(sys.argv[1]), cols(sys.argv[2])
        def psi(a, b):
            return sum((max(q, 1e-4) - max(p, 1e-4)) * math.log(max(q, 1e-4) / max(p, 1e-4)) for p, q in zip(a, b) if p > 0 or q > 0)
        s = sorted(xa)
        edges = [s[q * len(s) // 10] for q in range(1, 10)]
        def hist(xs):
            h = [0] * 10
            for x in xs: h[bisect.bisect_left(edges, x)] += 1
            return [v / len(xs) for v in h]
        keys = sorted(set(ca) | set(cb))
        share = lambda c: [c.count(k) / len(c) for k in keys]
        print(json.dumps([psi(hist(xa), hist(xb)), psi(share(ca), share(cb))]))
        """, [s.root + "/old.csv", s.repo + "/d.csv"])
        let w = try #require(try JSONSerialization.jsonObject(with: Data(want.utf8)) as? [Double])
        let st = stats(try json(try s.mlvOK("diff", "--format", "json")), "d.csv")
        let drift = st.map { $0["drift"] as? Double }
        #expect(drift.count == 2)
        for (i, got) in drift.enumerated() {
            let close = got.map { abs($0 - w[i]) <= 1e-12 * max(1, w[i]) } ?? false
            #expect(close, "column \(i): mlv \(String(describing: got)), Python \(w[i])")
        }
    }
}
