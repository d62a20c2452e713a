// `mlv merge-driver`: git's merge driver for pointer files.
import ArgumentParser
import MLVCore

struct MergeDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-driver",
        abstract: "git merge driver for pointer files (registered by `mlv init`).",
        discussion: """
        git calls it as `mlv merge-driver %O %A %B %P` when both sides of a merge changed the \
        same pointer file. It keeps the side that changed; when both changed the same target \
        differently it stops the merge and says how to choose.
        """,
        shouldDisplay: false)

    @Argument(help: "The common ancestor's version (%O).") var base: String
    @Argument(help: "Our version (%A); the result is written here.") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String
    @Argument(help: "The path in the repository (%P).") var path: String

    func run() throws {
        func read(_ p: String) throws -> [UInt8] { (try? FS.readAll(p)) ?? [] }
        switch PointerMerge.merge(base: try read(base), ours: try read(ours), theirs: try read(theirs), path: path) {
        case .merged(let text): try FS.atomicWrite(Array(text.utf8), to: ours)
        case .conflict(let message): throw MLVError.mergeConflict(message)
        }
    }
}
