// `mlv lineage`: the stages, inputs and params behind an output.
import ArgumentParser
import MLVCore

struct Lineage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chain of stages, inputs and params behind a model or dataset.",
        discussion: """
        Reads the run records committed at REV (mlv-runs/STAGE.json): the stage that \
        produced PATH, its command and params, each input with its snapshot id and the commit \
        that introduced it, and so on up the chain.

        Examples:
          mlv lineage models/model.json
          mlv lineage models/model.json --rev v1.0 --format json
          mlv lineage models/model.json --format dot | dot -Tpng > lineage.png
        """)

    enum Format: String, ExpressibleByArgument { case text, json, dot }

    @OptionGroup var repo: RepoOptions
    @Option(help: "The commit to read (default HEAD).") var rev: String?
    @Option(help: "Output: text, json or dot (Graphviz).") var format: Format = .text
    @Argument(help: "A tracked output: a model, a dataset, a metrics file.") var path: String

    func run() throws {
        let n = try MLVCore.Lineage(repo.open()).lineage(path, rev: rev)
        switch format {
        case .json: try Out.json(n)
        case .text: LineageText.text(n, indent: "")
        case .dot: LineageText.dot(n)
        }
    }
}
