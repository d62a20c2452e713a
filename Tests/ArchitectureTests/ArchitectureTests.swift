import Foundation
import Testing

/// The package root, found from this file's path (Tests/ArchitectureTests/ArchitectureTests.swift).
private let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The module map of Sources/README.md, checked on the sources themselves: who may import whom,
/// which module alone spells the store's layout, the temporary-name form and the kernel-level
/// I/O, that no file grows past 500 lines, and that commands live one per file. A change that
/// breaks the map fails here with the file and the line to move.
@Suite struct ArchitectureTests {
    /// Every Swift file under Sources/, as (module, path relative to the package, lines).
    static let sources: [(module: String, path: String, lines: [String])] = {
        let root = packageRoot + "/Sources"
        var out: [(String, String, [String])] = []
        let walker = FileManager.default.enumerator(atPath: root)
        while let rel = walker?.nextObject() as? String {
            guard rel.hasSuffix(".swift") else { continue }
            let text = (try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)) ?? ""
            let module = String(rel.split(separator: "/")[0])
            out.append((module, "Sources/" + rel, text.components(separatedBy: "\n")))
        }
        return out.sorted { $0.1 < $1.1 }
    }()

    /// Lines that are code, not comments (a line whose first non-space characters are `//`).
    static func code(_ lines: [String]) -> [(Int, String)] {
        lines.enumerated().compactMap { i, l in
            l.trimmingCharacters(in: .whitespaces).hasPrefix("//") ? nil : (i + 1, l)
        }
    }

    /// The targets Package.swift declares, with their dependencies (names only).
    static let declared: [String: Set<String>] = {
        let text = (try? String(contentsOfFile: packageRoot + "/Package.swift", encoding: .utf8)) ?? ""
        var out: [String: Set<String>] = [:]
        let re = try! NSRegularExpression(pattern: #"\.(?:target|executableTarget)\(name: "([A-Za-z0-9]+)",\s*dependencies: \[([^\]]*)\]"#)
        for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(m.range(at: 1), in: text)!])
            let deps = String(text[Range(m.range(at: 2), in: text)!])
            let names = try! NSRegularExpression(pattern: #""([A-Za-z0-9]+)"|name: "([A-Za-z0-9]+)""#)
            var set = Set<String>()
            for d in names.matches(in: deps, range: NSRange(deps.startIndex..., in: deps)) {
                for g in [1, 2] where d.range(at: g).location != NSNotFound {
                    set.insert(String(deps[Range(d.range(at: g), in: deps)!]))
                }
            }
            if set.contains("Yams") { set.insert("CYaml") }   // the Yams package's C module
            out[name] = set
        }
        return out
    }()

    static let systemModules: Set<String> = ["Foundation", "Glibc", "Dispatch", "Synchronization", "Testing"]

    @Test func everyImportIsADeclaredDependency() {
        var wrong: [String] = []
        for (module, path, lines) in Self.sources {
            guard let deps = Self.declared[module] else { wrong.append("\(path): module \(module) is not a target in Package.swift"); continue }
            for (n, l) in Self.code(lines) where l.hasPrefix("import ") || l.hasPrefix("@testable import ") {
                let name = String(l.split(separator: " ").last!)
                if !deps.contains(name) && !Self.systemModules.contains(name) {
                    wrong.append("\(path):\(n): imports \(name), which Package.swift does not list for \(module)")
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    @Test func commandsImportOnlyTheCore() {
        let allowed: Set<String> = ["MLVCore", "ArgumentParser", "Foundation", "Glibc", "Dispatch"]
        #expect(Self.declared["MLVCommands"] == ["MLVCore", "ArgumentParser"])
        var wrong: [String] = []
        for (module, path, lines) in Self.sources where module == "MLVCommands" || module == "mlv" {
            for (n, l) in Self.code(lines) where l.hasPrefix("import ") {
                let name = String(l.split(separator: " ").last!)
                if !allowed.contains(name) && !(module == "mlv" && name == "MLVCommands") { wrong.append("\(path):\(n): \(l)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    /// Spellings only one module may contain, in code (comments may explain them anywhere).
    @Test(arguments: [
        ("MLVStore", #""packs"|"index"|\.pack"|\.idx"|"packs/|"index/"#, "the store's on-disk layout"),
        ("MLVSystem", #"O_DIRECT\b|oDirect|preadv2|@_silgen_name|mlv-tmp"#, "kernel-level I/O and temporary names"),
    ])
    func onlyTheOwnerSpells(owner: String, pattern: String, what: String) throws {
        let re = try NSRegularExpression(pattern: pattern)
        var wrong: [String] = []
        for (module, path, lines) in Self.sources where module != owner {
            for (n, l) in Self.code(lines) where re.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil {
                wrong.append("\(path):\(n): \(l.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(wrong.isEmpty, "\(what) belong to \(owner) alone:\n\(wrong.joined(separator: "\n"))")
    }

    @Test func noSourceFileOver500Lines() {
        let long = Self.sources.filter { $0.lines.count > 501 }.map { "\($0.path): \($0.lines.count - 1) lines" }
        #expect(long.isEmpty, "\(long.joined(separator: "\n"))")
    }

    /// Layers below the core know nothing of mlv's commands or environment: their messages do
    /// not name an `mlv` command and they read no MLV_ variable (the caller passes settings).
    @Test func lowLayersDoNotKnowMLV() throws {
        let re = try NSRegularExpression(pattern: #"`mlv |"MLV_"#)
        var wrong: [String] = []
        for (module, path, lines) in Self.sources where ["MLVSystem", "MLVStore", "MLVZstd", "MLVGit", "MLVS3", "MLVParquet"].contains(module) {
            for (n, l) in Self.code(lines) where re.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil || l.contains("getenv(\"MLV") {
                wrong.append("\(path):\(n): \(l.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    /// One command, one file, named after it: every ParsableCommand of MLVCommands is declared in
    /// `Commands/<Name>.swift`, where Name is its command name (`mlv run` in Run.swift,
    /// `mlv diff-driver` in DiffDriver.swift), or in the file of the group it belongs to (a
    /// file that declares several commands is named after a group, whose configuration lists
    /// subcommands).
    @Test func oneFilePerCommand() throws {
        let decl = try NSRegularExpression(pattern: #"(?:struct|final class|class) ([A-Za-z0-9]+)\s*:\s*[^{]*\b(?:Async)?ParsableCommand\b"#)
        let named = try NSRegularExpression(pattern: #"commandName: "([a-z0-9-]+)""#)
        /// ArgumentParser's default command name: the type name in kebab case.
        func kebab(_ s: String) -> String {
            var out = ""
            for (i, c) in s.enumerated() {
                if c.isUppercase && i > 0 && !(s[s.index(s.startIndex, offsetBy: i - 1)].isUppercase) { out += "-" }
                out += c.lowercased()
            }
            return out
        }
        var wrong: [String] = []
        var found = 0
        for (module, path, lines) in Self.sources where module == "MLVCommands" {
            let text = lines.joined(separator: "\n")
            let decls = decl.matches(in: text, range: NSRange(text.startIndex..., in: text))
            guard !decls.isEmpty else { continue }
            found += decls.count
            // Each command's name: the first `commandName:` between its declaration and the next.
            var commands: [String] = []
            for (k, d) in decls.enumerated() {
                let end = k + 1 < decls.count ? decls[k + 1].range.location : (text as NSString).length
                let window = NSRange(location: d.range.location, length: end - d.range.location)
                if let m = named.firstMatch(in: text, range: window) {
                    commands.append(String(text[Range(m.range(at: 1), in: text)!]))
                } else {
                    commands.append(kebab(String(text[Range(d.range(at: 1), in: text)!])))
                }
            }
            let file = (path as NSString).lastPathComponent.replacingOccurrences(of: ".swift", with: "")
            guard path.contains("/Commands/") else { wrong.append("\(path): declares `\(commands.joined(separator: "`, `"))` outside Commands/"); continue }
            let key = { (s: String) in s.replacingOccurrences(of: "-", with: "").lowercased() }
            if !commands.contains(where: { key($0) == key(file) }) {
                wrong.append("\(path): declares `\(commands.joined(separator: "`, `"))`; name the file after its command")
            }
            if commands.count > 1 && !text.contains("subcommands:") { wrong.append("\(path): declares \(commands.count) commands but is not a group") }
        }
        #expect(found >= 20, "found only \(found) commands: has the declaration form changed?")
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }
}
