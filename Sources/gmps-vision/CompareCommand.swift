import ArgumentParser
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision compare`: GMPS against the baselines on one environment, every method over
/// seeds, in one folder with a table, a plot and the samples ratio (issue 15).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run GMPS and the baselines over seeds and compare held-out success against on-policy samples.",
        discussion: """
            Methods: gmps; no-meta-training (GMPS's behaviour-cloned policy with task codes, \
            adapted by latent search: GMPS with zero meta-iterations); maml-pg; maml-pg-pretrained \
            (MAML from a behaviour-cloned start); maml-promp (MAML from GMPS's pre-trained policy \
            with GMPS's exploration, inner step and learning rates, its outer objective the \
            post-update return, ascended by ProMP's clipped outer steps: GMPS with RL in place of \
            imitation); maml-promp-scratch (the same MAML-ProMP from random parameters: meta-RL \
            with no demonstration; asked for by name). Each seed of each method trains into \
            OUT/METHOD-seedS/, a run directory with snapshots along training (each one that \
            `gmps-vision evaluate --run` reads), evaluated on the seed's held-out goals. \
            OUT/compare.md holds the table (success before and after 1 and 3 adaptation steps ± \
            spread over seeds, samples by kind, wall time) and OUT/compare.png the held-out success \
            after one step against on-policy samples, a line per method over its min-max band over \
            seeds. Running the same command again resumes: a finished method and seed is read back, \
            an interrupted one continues from its checkpoint; more --seeds or --methods add to it. \
            --only-seed S trains and evaluates that seed alone (seeds can run at once in folders of \
            their own, or on other machines): copy every seed's OUT/METHOD-seedS/ into one folder \
            and the same command with --seeds N reads them back and writes the report.
            """
    )

    @OptionGroup var environment: EnvironmentOption

    @OptionGroup var reward: RewardOption

    @Option(help: "Seeds 1...N of every method.") var seeds = 3

    @Option(help: "Run only this seed of 1...N, and write no report (the command without it writes it once every seed's runs are in OUT).")
    var onlySeed: UInt64?

    @Option(help: "Who labels GMPS's demonstrations: scripted or sac (per-task SAC experts) (default: sac; --quick: scripted).") var experts: ComparisonExperts?

    @Option(help: "GMPS's on-policy sample budget (default: the default run's, or the quick one's).") var budget: Int?

    @Option(help: "MAML's on-policy budget as a multiple of GMPS's.") var mamlBudgetFactor = 10

    @Option(help: "maml-promp's and maml-promp-scratch's outer Adam learning rate, constant (default: maml-promp GMPS's, 1e-4 decaying to 1e-5; maml-promp-scratch MAML-PG's, 1e-3).") var mamlPrompLearningRate: Float?

    @Option(help: "maml-promp's and maml-promp-scratch's outer steps per iteration on the same post-update rollouts, the first plain and the rest on the clipped surrogate (default 3).") var mamlPrompOuterSteps: Int?

    @Option(help: "maml-promp's and maml-promp-scratch's clip ε on the likelihood ratios of its later outer steps, in (0, 1) (default 0.2).") var mamlPrompClip: Float?

    @Option(help: "Goals every snapshot is evaluated on: meta-test (each seed's held-out goals, to report) or validation (disjoint from them, to tune on). Default: meta-test, or the comparison's own when --out holds one.")
    var goals: ComparisonGoals?

    @Option(help: "Methods, comma-separated (default: \(ComparisonMethod.defaults.map(\.rawValue).joined(separator: ",")); also maml-promp-scratch).") var methods: MethodList?

    @Option(help: "Folder of the comparison (default: runs/compare-ENV-REWARD, or ...-quick).") var out: String?

    @Flag(help: "Every method on a tiny budget with scripted experts (about a minute per seed).") var quick = false

    @Option(help: "Worker threads per method (results do not depend on it).") var threads = 2

    @OptionGroup var output: JSONOption

    func validate() throws {
        if out == "" { throw ValidationError(OutputFolderOption.emptyPath) }
        if let budget, budget < 1 { throw ValidationError("--budget must be at least 1 on-policy sample; got \(budget).") }
        if seeds < 1 { throw ValidationError("--seeds must be at least 1; got \(seeds).") }
        if let onlySeed, !(1...UInt64(seeds)).contains(onlySeed) {
            throw ValidationError("--only-seed must be one of the seeds 1...\(seeds) (--seeds); got \(onlySeed).")
        }
        if mamlBudgetFactor < 1 { throw ValidationError("--maml-budget-factor must be at least 1; got \(mamlBudgetFactor).") }
        if !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256; got \(threads).") }
        if let problem = comparisonConfig().problem() { throw ValidationError(problem) }
    }

    /// The settings given, over the defaults (or --quick's).
    private func comparisonConfig() -> ComparisonConfig {
        var config = ComparisonConfig(environment: environment.name, budget: budget, quick: quick)
        config.reward = reward.value()
        config.seeds = seeds
        if let experts { config.experts = experts.source }
        config.mamlBudgetFactor = mamlBudgetFactor
        config.mamlProMPLearningRate = mamlPrompLearningRate
        if let mamlPrompOuterSteps { config.mamlOuterSteps = mamlPrompOuterSteps }
        if let mamlPrompClip { config.mamlOuterClip = mamlPrompClip }
        if let methods { config.methods = methods.methods }
        config.goals = goals ?? .metaTest
        config.threads = threads
        return config
    }

    func run() throws {
        var config = comparisonConfig()
        noteKernelOverride()
        let path = out ?? "runs/compare-\(config.environment)-\(config.reward)\(quick ? "-quick" : "")"
        // One comparison writes a folder at a time; each method's run directory has its own lock too.
        let folder = try RunDirectory(path: path)
        let lock = try RunLock(folder)
        defer { withExtendedLifetime(lock) {} }
        config = try settle(config, in: folder)

        let comparison = Comparison(config: config, folder: folder)
        comparison.log = { FileHandle.standardError.write(Data(("compare: " + $0 + "\n").utf8)) }
        comparison.display = { ProgressDisplay(stage: $0, total: $1) }
        // Seed by seed, so that a whole comparison of seed 1 is there first.
        var runs: [ComparisonMethod: [MethodRunResult]] = [:]
        for seed in onlySeed.map({ [$0] }) ?? Array(1...UInt64(config.seeds)) {
            for method in config.methods {
                runs[method, default: []].append(try comparison.run(method, seed: seed))
            }
        }
        if let onlySeed {
            try printSeed(onlySeed, results: config.methods.compactMap { runs[$0]?.first }, folder: folder)
            return
        }
        let report = ComparisonReport(config: config, results: config.methods.map { ($0, runs[$0] ?? []) },
                                      command: (["gmps-vision"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        try report.write(to: folder)
        if output.json {
            let data = try JSONSerialization.data(withJSONObject: report.jsonObject(folder: folder), options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.markdown)
            print("report: \(folder.file(ComparisonReport.markdownFile).path)")
        }
    }

    /// One seed's results (`--only-seed`): what each method reached and where its run is.
    private func printSeed(_ seed: UInt64, results: [MethodRunResult], folder: RunDirectory) throws {
        let name = { (result: MethodRunResult) in folder.file(Comparison.runName(result.method, seed: seed)).path }
        if output.json {
            let methods: [[String: Any]] = results.map {
                ["name": $0.method.rawValue, "pre_success": $0.final.preSuccess, "post_success_by_step": $0.final.postSuccess,
                 "on_policy_samples": $0.samples.onPolicy, "run_dir": name($0)]
            }
            let object: [String: Any] = ["seed": seed, "methods": methods, "out": folder.url.path]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for result in results {
            let after = result.final.postSuccess.map { String(format: "%.2f", $0) }.joined(separator: " / ")
            print("\(result.method.label), seed \(seed): \(String(format: "%.2f", result.final.preSuccess)) before, \(after) after "
                  + "1...\(result.final.postSuccess.count) steps (\(name(result)))")
        }
        print("seed \(seed) done; with every seed's runs in \(folder.url.path), the command without --only-seed writes the report.")
    }

    /// The comparison's settings in `comparison.json`: written when new; otherwise they must
    /// match, except for more seeds, other methods and threads (how a comparison grows).
    private func settle(_ config: ComparisonConfig, in folder: RunDirectory) throws -> ComparisonConfig {
        let file = "comparison.json"
        guard folder.exists(file) else {
            try folder.writeJSON(config, to: file)
            return config
        }
        let stored = try folder.readJSON(ComparisonConfig.self, from: file)
        var config = config
        // The comparison's own, as --reward and --goals say.
        if reward.reward == nil { config.reward = stored.reward }
        if goals == nil { config.goals = stored.goals }
        let changes = try SettingChange.between(stored, config).filter { !["seeds", "methods", "threads"].contains($0.key) }
        guard changes.isEmpty else {
            throw ValidationError("\(folder.url.path) holds a comparison with other settings: "
                                  + changes.map(\.description).joined(separator: ", ")
                                  + ". Give the same options to continue it, or another --out.")
        }
        if stored != config { try folder.writeJSON(config, to: file) }
        return config
    }
}

/// `--methods gmps,maml-pg`: comparison methods, comma-separated, each once.
struct MethodList: ExpressibleByArgument {
    var methods: [ComparisonMethod]

    init?(argument: String) {
        let names = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let methods = names.compactMap(ComparisonMethod.init(rawValue:))
        guard !methods.isEmpty, methods.count == names.count, Set(methods).count == methods.count else { return nil }
        // Table order, whatever the order given.
        self.methods = ComparisonMethod.allCases.filter(methods.contains)
    }

    static var defaultValueDescription: String { "LIST" }
}

/// `compare --experts`: the expert sources a comparison can train with on each seed's goals.
enum ComparisonExperts: String, ExpressibleByArgument, CaseIterable {
    case scripted, sac

    var source: ExpertSource { self == .scripted ? .scripted : .sac(.perTask) }
}
