import Foundation
import MLVTestSupport
import Testing

/// A three-stage pipeline in python3: prep copies the data, scale multiplies it by a param,
/// total sums it. Every run appends its stage's name to runs.log (not an output), which is
/// how the tests see whether a command ran.
func pipelineSandbox() throws -> Sandbox {
    let s = try Sandbox()
    try s.write("data/in.csv", "x\n1\n2\n3\n")
    try s.write("params.yaml", "scale: 2\n")
    try s.write("prep.py", """
    open("runs.log", "a").write("prep\\n")
    import os; os.makedirs("work", exist_ok=True)
    open("work/clean.csv", "w").write(open("data/in.csv").read())
    """)
    try s.write("scale.py", """
    import json, os
    open("runs.log", "a").write("scale\\n")
    k = float(open("params.yaml").read().split(":")[1])
    rows = [float(r) for r in open("work/clean.csv").read().split()[1:]]
    open("work/scaled.csv", "w").write("x\\n" + "".join(f"{r * k}\\n" for r in rows))
    json.dump({"sum": sum(rows) * k, "tz": os.environ.get("TZ"), "seed": os.environ.get("MLV_SEED")}, open("metrics.json", "w"), sort_keys=True)
    """)
    try s.write("total.py", """
    open("runs.log", "a").write("total\\n")
    rows = [float(r) for r in open("work/scaled.csv").read().split()[1:]]
    open("total.txt", "w").write(str(sum(rows)) + "\\n")
    """)
    try s.mlvOK("track", "data/in.csv")
    try s.mlvOK("stage", "add", "prep", "--dep", "data/in.csv", "--dep", "prep.py", "--out", "work/clean.csv", "--", "python3", "prep.py")
    try s.mlvOK("stage", "add", "scale", "--dep", "work/clean.csv", "--dep", "scale.py", "--params", "params.yaml:scale",
                "--out", "work/scaled.csv", "--metrics", "metrics.json", "--seed", "7", "--", "python3", "scale.py")
    try s.mlvOK("stage", "add", "total", "--dep", "work/scaled.csv", "--dep", "total.py", "--out", "total.txt", "--", "python3", "total.py")
    return s
}

func ran(_ s: Sandbox) -> [String] {
    let log = s.read("runs.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
    try? FileManager.default.removeItem(atPath: s.repo + "/runs.log")
    return log.split(separator: "\n").map(String.init)
}

@Suite struct ReproTests {
    @Test func aRunWritesARecordAndNothingChangedSkipsAll() throws {
        let s = try pipelineSandbox()
        let r = try s.mlvOK("repro")
        #expect(ran(s) == ["prep", "scale", "total"])
        #expect(r.stdout.contains("scale: ran"))
        #expect(s.read("total.txt") == Array("12.0\n".utf8))
        let rec = try JSONSerialization.jsonObject(with: Data(s.read("mlv-runs/scale.json")!)) as! [String: Any]
        #expect((rec["inputs"] as! [String: String]).keys.sorted() == ["scale.py", "work/clean.csv"])
        #expect(rec["params"] as? [String: String] == ["params.yaml:scale": "2"])
        #expect((rec["outputs"] as! [String: String]).keys.sorted() == ["metrics.json", "work/scaled.csv"])
        let metrics = (rec["metrics"] as! [String: Any])["metrics.json"] as! [String: Any]   // per metrics file
        #expect(metrics["sum"] as? Double == 12)
        #expect(metrics["tz"] as? String == "UTC")       // the controlled environment
        #expect(metrics["seed"] as? String == "7")
        #expect((rec["tools"] as! [String: String])["python3"]?.hasPrefix("Python 3") == true)
        #expect(rec["exit_code"] as? Int == 0)
        // Outputs are tracked targets now, and everything is staged for the next commit.
        #expect(s.exists("work/scaled.csv.mlv") && s.exists("total.txt.mlv"))
        #expect(try s.git("diff", "--cached", "--name-only").stdout.contains("mlv-runs/scale.json"))
        try s.mlvOK("commit", "-m", "pipeline")
        try s.mlvOK("repro")
        #expect(ran(s).isEmpty)
    }

    @Test func changingOneParamRerunsOnlyWhatIsDownstream() throws {
        let s = try pipelineSandbox()
        try s.mlvOK("repro")
        _ = ran(s)
        try s.write("params.yaml", "scale: 3\n")
        try s.mlvOK("repro")
        #expect(ran(s) == ["scale", "total"])
        #expect(s.read("total.txt") == Array("18.0\n".utf8))
    }

    @Test func theRunCacheRestoresWithoutRunning() throws {
        let s = try pipelineSandbox()
        try s.mlvOK("repro")
        try s.write("params.yaml", "scale: 3\n")
        try s.mlvOK("repro")
        _ = ran(s)
        try s.write("params.yaml", "scale: 2\n")
        let r = try s.mlvOK("repro")
        #expect(ran(s).isEmpty, "a command ran although these inputs ran before")
        #expect(r.stdout.contains("restored from the run cache"))
        #expect(s.read("total.txt") == Array("12.0\n".utf8))
        #expect(String(decoding: s.read("metrics.json")!, as: UTF8.self).contains("\"sum\": 12"))
    }

    @Test func aFailingCommandRecordsNothingAndKeepsThePreviousOutputs() throws {
        let s = try pipelineSandbox()
        try s.mlvOK("repro")
        let record = s.read("mlv-runs/total.json")
        try s.write("total.py", "open('total.txt', 'w').write('half')\nraise SystemExit(3)\n")
        let r = try s.mlv("repro", "total")
        #expect(r.status == 6)
        #expect(r.stderr.contains("stage total failed with exit status 3"))
        #expect(s.read("total.txt") == Array("12.0\n".utf8))
        #expect(s.read("mlv-runs/total.json") == record)
    }

    @Test func sigintReachesTheCommandAndLeavesNoHalfState() throws {
        let s = try pipelineSandbox()
        try s.mlvOK("repro")
        try s.write("total.py", """
        import time, signal, sys
        open("total.txt", "w").write("partial")
        open("started", "w").write("1")
        def bye(*_): open("got-sigint", "w").write("1"); sys.exit(130)
        signal.signal(signal.SIGINT, bye)
        time.sleep(60)
        """)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = ["repro", "total"]
        p.currentDirectoryURL = URL(fileURLWithPath: s.repo)
        p.environment = s.environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while !s.exists("started") && Date() < deadline { usleep(50_000) }
        #expect(s.exists("started"))
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 6)
        #expect(s.exists("got-sigint"), "the command never saw SIGINT")
        #expect(s.read("total.txt") == Array("12.0\n".utf8))
    }

    @Test func badPipelinesAreRefusedBeforeAnythingRuns() throws {
        let s = try pipelineSandbox()
        let unknown = try s.mlv("repro", "nope")
        #expect(unknown.status == 2 && unknown.stderr.contains("no stage \"nope\""))
        let cycle = try s.mlv("stage", "add", "loop", "--dep", "total.txt", "--out", "data/in.csv", "--", "true")
        #expect(cycle.status == 2)
        #expect(cycle.stderr.contains("cycle") || cycle.stderr.contains("output of both"), "\(cycle.stderr)")
        let outside = try s.mlv("stage", "add", "out", "--out", "../escape", "--", "true")
        #expect(outside.status == 2 && outside.stderr.contains("outside the repository"))
        let shared = try s.mlv("stage", "add", "dup", "--out", "total.txt", "--", "true")
        #expect(shared.status == 2 && shared.stderr.contains("output of both"))
        try s.mlvOK("stage", "add", "missing", "--dep", "nothere.csv", "--out", "m.txt", "--", "true")
        let dep = try s.mlv("repro", "missing")
        #expect(dep.status == 2 && dep.stderr.contains("nothere.csv does not exist"))
        try s.mlvOK("stage", "remove", "missing")
        try s.mlvOK("stage", "add", "ghost", "--out", "g.txt", "--", "no-such-interpreter", "x.py")
        let interp = try s.mlv("repro")
        #expect(interp.status == 2 && interp.stderr.contains("no-such-interpreter is not installed"))
        #expect(ran(s).isEmpty)
    }
}

@Suite struct VerifyTests {
    @Test func verifyPassesOnADeterministicPipelineAndFailsOnANondeterministicStage() throws {
        let s = try pipelineSandbox()
        try s.write("noisy.py", """
        import json, os, random
        r = random.SystemRandom().random()
        open("noise.txt", "w").write(f"{r}\\n")
        json.dump({"score": 0.5 + r * 1e-6}, open("noise-metrics.json", "w"))
        """)
        try s.mlvOK("stage", "add", "noisy", "--dep", "noisy.py", "--out", "noise.txt", "--metrics", "noise-metrics.json", "--", "python3", "noisy.py")
        try s.git("add", "prep.py", "scale.py", "total.py", "noisy.py", "params.yaml")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "pipeline and records")
        // Whatever the working tree holds, verification uses what HEAD pinned.
        try s.write("data/in.csv", "x\n100\n")
        let good = try s.mlv("repro", "--verify", "prep", "scale", "total")
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("total: reproduced"))
        let bad = try s.mlv("repro", "--verify", "noisy")
        #expect(bad.status == 7)
        #expect(bad.stdout.contains("noisy: DIFFERS from its record"))
        #expect(bad.stdout.contains("~ noise.txt"))
        #expect(bad.stdout.contains("metric score"))
        let tolerated = try s.mlv("repro", "--verify", "--tolerance", "0.001", "noisy")
        #expect(tolerated.status == 0, "\(tolerated.stdout)")
        // The working tree was not touched by verification.
        #expect(s.read("data/in.csv") == Array("x\n100\n".utf8))
    }

    @Test func runAtAnOlderRevisionUsesThatRevisionsData() throws {
        let s = try pipelineSandbox()
        try s.git("add", "prep.py", "scale.py", "total.py", "params.yaml")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/in.csv", "x\n10\n20\n")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "v2")
        try s.write("data/in.csv", "x\n999\n")        // uncommitted, must not be used
        let r = try s.mlvOK("run", "total", "--rev", "HEAD~1", "--json")
        let rec = try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any]
        let out = (rec["outputs"] as! [String: String])["total.txt"]!
        // HEAD~1's total is 12.0: its snapshot is the one recorded then.
        let old = try JSONSerialization.jsonObject(with: Data(try s.git("show", "HEAD~1:mlv-runs/total.json").stdout.utf8)) as! [String: Any]
        #expect((old["outputs"] as! [String: String])["total.txt"] == out)
        #expect(s.read("total.txt") == Array("60.0\n".utf8))   // the working tree keeps HEAD's output
        #expect(try s.mlv("repro", "--verify", "--rev", "HEAD~1", "nope").status == 2)
    }
}

@Suite struct LineageTests {
    @Test func lineageFollowsRecordsUpTheChain() throws {
        let s = try pipelineSandbox()
        try s.git("add", "prep.py", "scale.py", "total.py", "params.yaml")
        try s.mlvOK("repro")
        try s.mlvOK("commit", "-m", "pipeline")
        let j = try JSONSerialization.jsonObject(with: try s.mlvOK("lineage", "total.txt", "--format", "json").stdoutBytes) as! [String: Any]
        #expect(j["stage"] as? String == "total")
        let inputs = j["inputs"] as! [[String: Any]]
        let scaled = inputs.first { $0["path"] as? String == "work/scaled.csv" }!
        #expect(scaled["stage"] as? String == "scale")
        #expect(scaled["params"] as? [String: String] == ["params.yaml:scale": "2"])
        #expect((scaled["commit"] as? String)?.count == 40)
        let clean = (scaled["inputs"] as! [[String: Any]]).first { $0["path"] as? String == "work/clean.csv" }!
        let data = (clean["inputs"] as! [[String: Any]]).first { $0["path"] as? String == "data/in.csv" }!
        #expect(data["snapshot"] as? String != nil && data["stage"] == nil)
        let dot = try s.mlvOK("lineage", "total.txt", "--format", "dot").stdout
        #expect(dot.hasPrefix("digraph lineage {\n") && dot.contains("\"work/scaled.csv\" -> \"total.txt\" [label=\"total\"];"))
        #expect(try s.mlv("lineage", "nothing.txt").status == 2)
    }
}

@Suite struct FixturePipelineTests {
    /// The sample project's pipeline (prepare → featurize → train → evaluate) reproduces bit
    /// for bit; its deliberately non-deterministic stage is caught by --verify.
    @Test func theSamplePipelineReproducesBitForBit() throws {
        let s = try Sandbox()
        let fixture = packageRoot + "/Fixtures/sample-project"
        for item in try FileManager.default.contentsOfDirectory(atPath: fixture) {
            try FileManager.default.copyItem(atPath: fixture + "/" + item, toPath: s.repo + "/" + item)
        }
        try s.mlvOK("track", "data/penguins.csv", "features/penguins.features.yaml", "params.yaml")
        try s.mlvOK("stage", "add", "prepare", "--dep", "data/penguins.csv", "--dep", "prepare.py", "--out", "work/clean.csv", "--", "python3", "prepare.py")
        try s.mlvOK("stage", "add", "featurize", "--dep", "work/clean.csv", "--dep", "features/penguins.features.yaml", "--dep", "featurize.py",
                    "--out", "work/features.csv", "--", "python3", "featurize.py")
        try s.mlvOK("stage", "add", "train", "--dep", "work/features.csv", "--dep", "train.py",
                    "--params", "params.yaml:train.learning_rate", "--params", "params.yaml:train.epochs", "--params", "params.yaml:train.seed",
                    "--out", "models/model.json", "--metrics", "metrics.json", "--seed", "42",
                    "--", "python3", "train.py", "--data", "work/features.csv", "--out-dir", ".")
        try s.mlvOK("stage", "add", "evaluate", "--dep", "models/model.json", "--dep", "work/features.csv", "--dep", "evaluate.py",
                    "--metrics", "eval.json", "--", "python3", "evaluate.py")
        try s.mlvOK("stage", "add", "noisy", "--dep", "noisy.py", "--out", "work/noise.txt", "--", "python3", "noisy.py")
        try s.git("add", "prepare.py", "featurize.py", "train.py", "evaluate.py", "noisy.py")
        let r = try s.mlvOK("repro")
        #expect(r.stdout.contains("[train] accuracy train="))
        try s.mlvOK("commit", "-m", "pipeline")
        let verify = try s.mlv("repro", "--verify", "prepare", "featurize", "train", "evaluate")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("train: reproduced") && verify.stdout.contains("evaluate: reproduced"))
        let noisy = try s.mlv("repro", "--verify", "noisy")
        #expect(noisy.status == 7)
        #expect(noisy.stdout.contains("~ work/noise.txt"))
        // Changing a training param re-runs train and evaluate only.
        let params = String(decoding: s.read("params.yaml")!, as: UTF8.self)
        try s.write("params.yaml", params.replacingOccurrences(of: "epochs: 200", with: "epochs: 150"))
        let again = try s.mlvOK("repro", "--json")
        #expect(again.stdout.contains("prepare: up to date") == false)   // --json prints steps as JSON
        let steps = try JSONSerialization.jsonObject(with: Data(again.stdout[again.stdout.range(of: "[\n")!.lowerBound...].utf8)) as! [[String: Any]]
        let actions = Dictionary(uniqueKeysWithValues: steps.map { ($0["stage"] as! String, $0["action"] as! String) })
        #expect(actions == ["prepare": "skipped", "featurize": "skipped", "noisy": "skipped", "train": "ran", "evaluate": "ran"])
    }
}
