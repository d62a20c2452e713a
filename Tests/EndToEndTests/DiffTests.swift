import Foundation
import MLVTestSupport
import Testing

/// `mlv diff` on the Fixtures project between two commits, in every format, against golden
/// files. Re-record them with MLV_RECORD_GOLDEN=1 (which also fails the run, so recording
/// never passes silently).
@Suite struct DiffGoldenTests {
    static let goldenDir = packageRoot + "/Tests/EndToEndTests/Golden"

    /// The fixture project with two commits: penguins edited (a value changed, a row
    /// removed, rows appended), params and metrics changed.
    func project() throws -> Sandbox {
        let s = try Sandbox()
        let fixture = packageRoot + "/Fixtures/sample-project"
        for item in try FileManager.default.contentsOfDirectory(atPath: fixture) {
            try FileManager.default.copyItem(atPath: fixture + "/" + item, toPath: s.repo + "/" + item)
        }
        try s.write("metrics.json", #"{"accuracy": {"test": 0.955882, "train": 0.985401}, "loss": 0.101727}"# + "\n")
        try s.mlvOK("track", "data/penguins.csv", "data/iris.csv", "params.yaml")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        var lines = String(decoding: s.read("data/penguins.csv")!, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[5] = lines[5].replacingOccurrences(of: "Torgersen", with: "Biscoe")
        lines.remove(at: 10)
        lines.insert(contentsOf: ["Gentoo,Biscoe,50.1,15.2,220,5400,male,2009", "Gentoo,Biscoe,48.8,14.9,215,5100,female,2009"], at: lines.count - 1)
        try s.write("data/penguins.csv", lines.joined(separator: "\n"))
        let params = String(decoding: s.read("params.yaml")!, as: UTF8.self)
        try s.write("params.yaml", params.replacingOccurrences(of: "0.1", with: "0.05"))
        try s.write("metrics.json", #"{"accuracy": {"test": 0.941176, "train": 0.989051}, "loss": 0.094,"# + #" "f1": 0.93}"# + "\n")
        try s.mlvOK("commit", "-m", "v2")
        return s
    }

    @Test(arguments: ["text", "md", "json", "html"])
    func formatsMatchTheirGoldenFiles(format: String) throws {
        let s = try project()
        // The working tree moves on: the diff must read both commits from the store and git.
        try s.write("data/penguins.csv", "garbage that is not the committed data\n")
        let r = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", format)
        let path = Self.goldenDir + "/fixture-diff.\(format)"
        if ProcessInfo.processInfo.environment["MLV_RECORD_GOLDEN"] == "1" {
            try r.stdoutBytes.write(to: URL(fileURLWithPath: path))
            Issue.record("recorded \(path); unset MLV_RECORD_GOLDEN and run again")
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(r.stdout == golden, "mlv diff --format \(format) differs from \(path); if the change is intended, re-record with MLV_RECORD_GOLDEN=1")
    }

    @Test func htmlIsOneSelfContainedFileWithCharts() throws {
        let s = try Sandbox()
        var a = "id,x\n", b = "id,x\n"
        for i in 0..<500 { a += "\(i),\(i % 50)\n"; b += "\(i),\(i % 50 + 30)\n" }
        try s.write("data/t.csv", a)
        try s.write("metrics.json", "{\"auc\": 0.9}\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", b)
        try s.write("metrics.json", "{\"auc\": 0.85}\n")
        try s.mlvOK("commit", "-m", "v2")
        let html = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "html").stdout
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 2)      // the drifted column and the metrics
        #expect(html.contains("x histogram") && html.contains("metric changes"))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"))   // nothing fetched
    }

    @Test func jsonHasTheDocumentedSchema() throws {
        let s = try project()
        let r = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "json")
        let j = try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any]
        let targets = j["targets"] as! [[String: Any]]
        let penguins = targets.first { $0["path"] as? String == "data/penguins.csv" }!
        let table = penguins["table"] as! [String: Any]
        let rows = table["rows"] as! [String: Any]
        #expect(rows["added"] as? Int == 3)          // the edited row's new version and two appended
        #expect(rows["removed"] as? Int == 2)        // the edited row's old version and the deleted one (no key)
        #expect(rows["modified"] as? Int == 0)
        #expect(table["cells_changed"] is Int)
        let columns = table["columns"] as! [String: Any]
        #expect(columns["added"] is [String] && columns["removed"] is [String] && columns["type_changed"] is [Any])
        let metrics = j["metrics"] as! [[String: Any]]
        let test = metrics.first { $0["key"] as? String == "accuracy.test" }!
        #expect(test["old"] as? Double == 0.955882 && test["new"] as? Double == 0.941176)
        #expect(abs((test["delta"] as! Double) + 0.014706) < 1e-9)
        #expect(test["relative"] is Double)
        let f1 = metrics.first { $0["key"] as? String == "f1" }!
        #expect(f1["old"] == nil || f1["old"] is NSNull)
        let params = j["params"] as! [[String: Any]]
        #expect(params.contains { $0["key"] as? String == "train.learning_rate" && $0["new"] as? Double == 0.05 })
    }

    @Test func gatesSetTheExitStatus() throws {
        let s = try project()
        let fired = try s.mlv("diff", "HEAD~1", "HEAD", "--fail-on", "loss > 1", "--fail-on", "accuracy.test < -0.01")
        #expect(fired.status == 11, "\(fired.stderr)")
        #expect(fired.stdout.contains("gate fired: accuracy.test < -0.01"))
        #expect(try s.mlv("diff", "HEAD~1", "HEAD", "--fail-on", "accuracy.test < -0.5").status == 0)
        #expect(try s.mlv("diff", "HEAD~1", "HEAD", "--exit-code").status == 1)
        #expect(try s.mlv("diff", "HEAD", "HEAD", "--exit-code").status == 0)
        #expect(try s.mlv("metrics", "diff", "HEAD~1", "HEAD", "--fail-on", "rel(loss) < -0.05").status == 10)
        let drift = try s.mlv("diff", "HEAD~1", "HEAD", "--fail-on", "drift(data/penguins.csv) > 100")
        #expect(drift.status == 0)
        let bad = try s.mlv("diff", "HEAD~1", "HEAD", "--fail-on", "nosuch > 1")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("no metric or param"))
        #expect(try s.mlv("diff", "nope", "HEAD").status == 2)
        #expect(try s.mlv("diff", "HEAD~1", "HEAD", "--key", "missing").status == 2)
        #expect(try s.mlvOK("metrics", "show", "HEAD~1").stdout.contains("accuracy.test"))
        #expect(try s.mlvOK("params", "diff", "HEAD~1", "HEAD").stdout.contains("learning_rate"))
    }

    @Test func foldersShowFileChangesAndRenames() throws {
        let s = try Sandbox()
        try s.write("data/d/a.txt", "aaaa\n")
        try s.write("data/d/b.txt", "bbbb\n")
        try s.write("data/d/c.csv", "id,v\n1,x\n")
        try s.mlvOK("track", "data/d")
        try s.mlvOK("commit", "-m", "v1")
        try FileManager.default.moveItem(atPath: s.repo + "/data/d/a.txt", toPath: s.repo + "/data/d/renamed.txt")
        try s.write("data/d/b.txt", "BBBB\n")
        try s.write("data/d/c.csv", "id,v\n1,y\n2,z\n")
        try s.write("data/d/new.txt", "n\n")
        let r = try s.mlvOK("diff", "--format", "json", "--key", "id")
        let j = try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any]
        let t = (j["targets"] as! [[String: Any]])[0]
        let files = (t["files"] as! [[String: Any]]).map { "\($0["change"]!) \($0["path"]!)" }
        #expect(files == ["modified data/d/b.txt", "modified data/d/c.csv", "added data/d/new.txt", "renamed data/d/renamed.txt"])
        let tables = t["tables"] as! [String: Any]
        let c = (tables["data/d/c.csv"] as! [String: Any])["rows"] as! [String: Any]
        #expect(c["added"] as? Int == 1 && c["modified"] as? Int == 1)
    }
}

@Suite struct DiffKindsTests {
    /// With the two config lines of the README, plain `git diff` shows the data summary.
    @Test func gitDiffShowsTheDataSummaryThroughTheTextconvDriver() throws {
        let s = try Sandbox()
        try s.git("config", "diff.mlv.textconv", "\(mlvBinary) diff-driver")
        try s.write(".gitattributes", "*.mlv merge=mlv\n*.mlv diff=mlv\n")
        try s.write("data/d.csv", "id,v\n1,10\n2,20\n")
        try s.mlvOK("track", "data/d.csv")
        try s.git("add", ".gitattributes")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", "id,v,w\n1,10,x\n2,25,y\n3,30,z\n")
        try s.mlvOK("commit", "-m", "v2")
        let d = try s.git("diff", "HEAD~1", "HEAD", "--", "data/d.csv.mlv").stdout
        #expect(d.contains("-column v: integer, 2 values, 0 nulls, 2 distinct, mean 15, range 10 .. 20"))
        #expect(d.contains("+column v: integer, 3 values, 0 nulls, 3 distinct, mean 21.6667, range 10 .. 30"))
        #expect(d.contains("+column w: string"))
    }

    @Test func featureChangesNameTheModelsToRetrain() throws {
        let s = try Sandbox()
        let fixture = packageRoot + "/Fixtures/sample-project/features/penguins.features.yaml"
        let text = try String(contentsOfFile: fixture, encoding: .utf8)
        try s.write("features/penguins.features.yaml", text)
        try s.write("models/model.bin", noise(100_000, seed: 3))
        try s.mlvOK("track", "features/penguins.features.yaml", "models/model.bin")
        var config = String(decoding: s.read("mlv.yaml")!, as: UTF8.self)
        config += "targets:\n  models/model.bin:\n    inputs: [features/penguins.features.yaml]\n"
        try s.write("mlv.yaml", config)
        try s.git("add", "mlv.yaml")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("features/penguins.features.yaml", text.replacingOccurrences(of: "body_mass_g / 1000", with: "body_mass_g / 1000.0"))
        let r = try s.mlvOK("diff", "--format", "json")
        let j = try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any]
        let t = (j["targets"] as! [[String: Any]]).first { $0["path"] as? String == "features/penguins.features.yaml" }!
        let f = t["features"] as! [String: Any]
        #expect(f["models_to_retrain"] as? [String] == ["models/model.bin"])
        let c = (f["changes"] as! [[String: Any]])[0]
        #expect(c["name"] as? String == "penguin_measurements/body_mass_kg" && c["field"] as? String == "expression")
        #expect(try s.mlvOK("diff").stdout.contains("models to retrain: models/model.bin"))
    }

    @Test func safetensorsModelsAndOtherBinaries() throws {
        let s = try Sandbox()
        let big = (0..<50_000).map { Float($0 % 100) / 100 }
        try s.write("models/m.safetensors", safetensorsFile([("layer.w", [50_000], big), ("head", [2], [1, 2])]))
        var other = noise(1 << 20, seed: 9)
        try s.write("models/m.bin", other)
        try s.mlvOK("track", "models/m.safetensors", "models/m.bin")
        try s.mlvOK("commit", "-m", "v1")
        var changed = big
        changed[0] = 5
        try s.write("models/m.safetensors", safetensorsFile([("layer.w", [50_000], changed), ("head", [3], [1, 2, 3])]))
        other.replaceSubrange(500_000..<500_010, with: [UInt8](repeating: 1, count: 10))
        try s.write("models/m.bin", other)
        try s.mlvOK("commit", "-m", "v2")
        let j = try JSONSerialization.jsonObject(with: try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "json").stdoutBytes) as! [String: Any]
        let targets = j["targets"] as! [[String: Any]]
        let st = targets.first { $0["path"] as? String == "models/m.safetensors" }!["tensors"] as! [String: Any]
        #expect(st["parameters_old"] as? Int == 50_002 && st["parameters_new"] as? Int == 50_003)
        let tensors = (st["tensors"] as! [[String: Any]]).map { "\($0["name"]!):\($0["change"]!)" }
        #expect(tensors == ["head:reshaped", "layer.w:modified"])
        let bin = targets.first { $0["path"] as? String == "models/m.bin" }!["binary"] as! [String: Any]
        #expect((bin["reused_share"] as! Double) > 0.8)
    }
}

@Suite struct DiffSniffTests {
    @Test func aDatasetWithoutExtensionIsSniffed() throws {
        let s = try Sandbox()
        try s.write("data/export", "id,v\n1,2\n")
        try s.mlvOK("track", "--kind", "dataset", "data/export")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/export", "id,v\n1,3\n")
        let j = try JSONSerialization.jsonObject(with: try s.mlvOK("diff", "--key", "id", "--format", "json").stdoutBytes) as! [String: Any]
        let t = (j["targets"] as! [[String: Any]])[0]
        #expect(((t["table"] as? [String: Any])?["rows"] as? [String: Any])?["modified"] as? Int == 1)
    }
}

@Suite struct DiffBadInputTests {
    @Test func eachBadInputIsOneLineWithFileAndLine() throws {
        let s = try Sandbox()
        try s.write("data/t.csv", "id,v\n1,2\n")
        try s.write("metrics.json", "{\"a\": 1}\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", "id,v\n1,2\n2,3,4\n")
        try s.write("metrics.json", "{\"a\": \n")
        try s.mlvOK("commit", "-m", "v2")
        // A ragged table is a warning naming file and line; the report stands (TableTrustTests).
        let ragged = try s.mlv("diff", "HEAD~1", "HEAD", "--", "data/t.csv")
        #expect(ragged.status == 0)
        #expect(ragged.stderr.contains("warning: data/t.csv@HEAD:3: 3 fields where the header has 2"), "\(ragged.stderr)")
        #expect(ragged.stderr.split(separator: "\n").count == 1)
        let json = try s.mlv("diff", "HEAD~1", "HEAD", "--", "metrics.json")
        #expect(json.status == 2)
        #expect(json.stderr.contains("metrics.json@HEAD:2: not valid JSON"), "\(json.stderr)")
        // Data whose objects are not in the local store.
        try FileManager.default.removeItem(atPath: s.repo + "/.mlv/store/packs")
        try FileManager.default.createDirectory(atPath: s.repo + "/.mlv/store/packs", withIntermediateDirectories: true)
        let missing = try s.mlv("diff", "HEAD~1", "HEAD", "--", "data/t.csv")
        #expect(missing.status == 4, "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }
}
