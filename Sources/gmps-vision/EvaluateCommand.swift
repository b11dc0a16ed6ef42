import ArgumentParser
import ConvNet
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision evaluate`: meta-test adaptation on held-out goals from reward alone.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Adapt a meta-trained policy to held-out goals from reward alone and report success.",
        discussion: """
            For each goal: K rollouts with the meta-policy, the inner step with the learned α, \
            repeated --adapt-steps times on fresh rollouts, then the adapted policy with mean \
            actions; all of it --draws times with independent noise. No expert, no demos.
            """
    )

    @Option(name: .customLong("run"), help: "Run directory written by meta-train.") var runDirectory: String

    @Option(help: "meta-test (the run's held-out goals), validation (held-out goals for tuning, disjoint from meta-test) or a goals file.") var goals = "meta-test"

    @Option(help: "Held-out goals to draw from the meta-test or validation split.") var goalCount = 20

    @Option(help: "Rollouts per adaptation step (K).") var trajectories: Int?

    @Option(help: "Adaptation steps, each on fresh rollouts.") var adaptSteps = 1

    @Option(help: "Independent adaptations per goal.") var draws = 10

    @Option(help: "Factor on the latent's spread at each further adaptation step; given, it replaces the scales a run with several meta-trained steps learned (default: the learned scales, then the run's decay, 0.5).")
    var latentDecay: Float?

    @Option(help: "The bias vector's inner step size α at meta-test; given, it replaces the one the run learned (to tune adaptation on validation goals).")
    var biasVectorAlpha: Float?

    @Option(help: "How the adaptation rollouts explore: latent-only (a latent per rollout, mean actions) or per-trajectory (and noise on every action); given, it replaces the run's, its latent's spread kept (to compare exploration schemes on one policy).")
    var exploration: EvaluationExplorationArgument?

    @Option(help: "Seed of the adaptation noise.") var seed: UInt64 = 1

    @Flag(help: "Instead of adapting, run the policy with mean actions at the codes pre-training learned: each meta-training goal at its own, each held-out goal at a code fitted to its goal. Reads the goal (no meta-test): what bias-vector adaptation could reach at best. --adapt-steps, --draws, --trajectories, --latent-decay and --bias-vector-alpha do not apply.")
    var taskCodeOracle = false

    @OptionGroup var reward: RewardOption

    @OptionGroup var output: JSONOption

    func validate() throws {
        if let latentDecay, !(latentDecay > 0 && latentDecay <= 1) {
            throw ValidationError("--latent-decay must be in (0, 1]; got \(latentDecay).")
        }
        if let biasVectorAlpha, !(biasVectorAlpha > 0 && biasVectorAlpha.isFinite) {
            throw ValidationError("--bias-vector-alpha must be a positive number; got \(biasVectorAlpha).")
        }
        guard adaptSteps >= 1, draws >= 1, goalCount >= 1 else {
            throw ValidationError("--adapt-steps, --draws and --goal-count must be at least 1.")
        }
        if let trajectories, trajectories < 2 {
            throw ValidationError("--trajectories must be at least 2 (advantages need a spread).")
        }
        if let problem = MemoryEstimate.evaluationProblem(goals: goalCount, draws: draws, steps: adaptSteps,
                                                          goalsOption: "--goal-count") {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        var (directory, config) = try RunDirectory.existingRun(
            runDirectory, hint: "train one with `gmps-vision meta-train --out \(runDirectory)`")
        // Adaptation may be scored with another reward than the run trained with.
        config.reward = reward.value(or: config.reward)
        if let exploration {
            guard let latentStd = config.exploration.latentStd else {
                throw Sentence(description: "--exploration replaces how a run's latent probes act, and \(runDirectory) explores per step, with no latent; leave the option out.")
            }
            config.exploration = exploration.value(latentStd: latentStd)
            if let invalid = config.invalidSetting() { throw Sentence(description: "--exploration \(exploration.rawValue): \(invalid.requirement)") }
        }
        let policy = try MetaPolicy(config: config)
        let state = try MetaCheckpoint.load(from: directory, policy: policy, iterations: config.iterations)
        let pipeline = GMPSPipeline(config: config, run: directory)
        let testGoals: [Goal]
        if goals == "meta-test" {
            testGoals = try TaskDistribution(config.environment)
                .metaSplit(seed: config.seed, trainCount: config.metaTrainTasks, testCount: goalCount).test
        } else if goals == "validation" {
            testGoals = try pipeline.validationGoals(count: goalCount)
        } else {
            testGoals = try GoalsFile.read(goals, expecting: config.environment)
        }
        if taskCodeOracle {
            return try runOracle(pipeline: pipeline, config: config, state: state, goals: testGoals)
        }
        let k = trajectories ?? config.trajectoriesPerTask
        var alpha = state.alpha
        if let biasVectorAlpha { alpha.replaceSubrange(0..<policy.biasVectorCount, with: repeatElement(biasVectorAlpha, count: policy.biasVectorCount)) }
        let started = Date()
        let summary = try pipeline.evaluate(
            theta: state.theta, alpha: alpha, latentScales: state.latentScales, goals: testGoals,
            adaptationSteps: adaptSteps, draws: draws,
            seed: seed, trajectories: k, latentDecay: latentDecay,
            display: ProgressDisplay(stage: "evaluation (goals)", total: testGoals.count))
        let seconds = Date().timeIntervalSince(started)
        if output.json {
            var object = summary.jsonObject
            object["env"] = config.environment.rawValue
            object["reward"] = config.reward.rawValue
            object["goals"] = testGoals.count
            object["draws"] = draws
            object["trajectories"] = k
            object["adaptation_samples_per_draw"] = k * config.environment.horizon * adaptSteps
            object["seconds"] = seconds
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(summary.table(environment: config.environment, goals: testGoals.count, draws: draws))
        }
    }
}

extension EvaluateCommand {
    /// `--task-code-oracle`: the policy at pre-training's codes, no adaptation.
    private func runOracle(pipeline: GMPSPipeline, config: GMPSConfig, state: MetaTrainerState,
                           goals testGoals: [Goal]) throws {
        let started = Date()
        let total = config.metaTrainTasks + testGoals.count
        let result = try pipeline.taskCodeOracle(
            theta: state.theta, codes: state.taskCodes, goals: testGoals, seed: seed,
            display: ProgressDisplay(stage: "task-code oracle (goals)", total: total))
        let seconds = Date().timeIntervalSince(started)
        let map = result.map
        if output.json {
            func part(_ summary: EvaluationSummary) -> [String: Any] {
                [
                    "goals": summary.perGoal.count, "success": summary.preSuccess,
                    "return": summary.preReturn, "final_distance": summary.preFinalDistance,
                    "per_goal": summary.perGoal.map { goal -> [String: Any] in
                        ["goal": goal.goal, "success": goal.preSuccess, "final_distance": goal.preFinalDistance]
                    },
                ]
            }
            let object: [String: Any] = [
                "env": config.environment.rawValue, "reward": config.reward.rawValue,
                "iteration": state.iteration, "code_fit": map.degree.rawValue,
                "code_fit_explained": map.explainedFraction,
                "training": part(result.training), "held_out": part(result.heldOut), "seconds": seconds,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            func row(_ name: String, _ summary: EvaluationSummary) -> String {
                name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(format: "%.2f   %8.2f   %.3f m", summary.preSuccess, summary.preReturn, summary.preFinalDistance)
            }
            print("""
                \(config.environment): task-code oracle (the goal picks the code; no adaptation), θ after \(state.iteration) meta-iterations
                                                        success     return   final distance
                \(row("meta-training goals, own codes (\(result.training.perGoal.count))", result.training))
                \(row("\(goals) goals, fitted codes (\(result.heldOut.perGoal.count))", result.heldOut))
                codes fitted by a \(map.degree.rawValue) map of the goal's \(map.goalDimension) coordinates: it explains \(String(format: "%.0f%%", 100 * map.explainedFraction)) of their spread
                """)
        }
    }
}

