import VisionEnvs

/// Every setting of GMPS meta-training, one documented field each. Written into the run
/// directory as `config.json`; CLI options map onto it. Defaults follow FINDINGS.md's
/// calibration study, then the project's own measurements.
public struct GMPSConfig: Codable, Equatable, Sendable {
    // MARK: Task and observation

    /// The environment (push, door, reach).
    public var environment: EnvironmentName = .push
    /// What the environment pays per step, wherever a reward is computed (experts, demos,
    /// rollouts, adaptation): the shaped reward, or 1 while the success test holds and 0
    /// otherwise. A config.json written before this setting existed is dense.
    public var reward: RewardKind = .dense
    /// Meta-training goals drawn from the task distribution's seeded split; the held-out
    /// meta-test goals follow them in the same split.
    public var metaTrainTasks = 60
    /// Demonstrations per meta-training task, collected from the experts with Gaussian noise
    /// of `demoNoise` on the executed action and the clean action as label (FINDINGS.md).
    /// `init(environment:)` sets the environment's own (`defaultDemosPerTask`).
    public var demosPerTask = 5
    /// σ of that noise. On validation (push, SAC experts, seed 3, no meta-iterations, 20 goals ×
    /// 5 draws, after 1 / 2 / 3 steps) 0.1 gave 0.56 / 0.65 / 0.69 and 0.5 gave 0.60 / 0.69 /
    /// 0.73, against 0.57 / 0.66 / 0.77 at 0.3.
    public var demoNoise: Float = 0.3
    /// Which demonstration episodes pre-training and the outer loss imitate: all, or each task's
    /// successful ones (`DemoEpisodeSelection`). A config.json written before this setting
    /// existed imitates all. On validation (push, SAC experts, 20 goals × 5 draws, after 1 / 2 / 3
    /// steps) successful episodes lift the pipeline with no meta-iterations from 0.56 / 0.64 / 0.71
    /// to 0.65 / 0.72 / 0.78 (mean of seeds 1–3), but after meta-training gave 0.64 / 0.65 / 0.78
    /// and 0.61 / 0.65 / 0.71 (seeds 2, 3) against 0.67 / 0.68 / 0.73 and 0.60 / 0.64 / 0.78.
    public var demoEpisodes: DemoEpisodeSelection = .all

    // MARK: Experts and demonstrations (DESIGN.md §4, "A run, stage by stage")

    /// Who labels demonstrations and DAgger states: per-task SAC experts on privileged state,
    /// the paper's federated learners. Goal-conditioned SAC on the default 60 push goals
    /// (400,000 steps, seed 1) peaked at 0.73 clean success after 40,000 steps and then
    /// diverged (critic loss 0.4 → 533, success 0.05 at the end), while every per-task expert
    /// reached clean success 1.0; scripted controllers remain as a reference (`--experts scripted`).
    /// With hindsight relabelling (`SACConfig.hindsightRelabels` 4, `experts --mode
    /// goal-conditioned --sac FILE`; 200,000 steps, seed 1) its best checkpoint reached 0.77
    /// clean / 0.71 noisy success against 0.75 / 0.66 without (per-task: 0.95–1.0 clean, 0.71–0.75
    /// noisy on seeds 1–3), so per-task stays the default.
    public var experts: ExpertSource = .sac(.perTask)
    /// SAC environment steps per expert (per-task) or in all (goal-conditioned), when the run
    /// trains its experts (`experts` = `.sac`); `GMPSConfig(environment:)` sets the
    /// environment's own (`defaultExpertSteps`). Each expert stops two solved evaluations after
    /// it first meets the solved test, else at this budget.
    public var expertSteps = 40_000
    /// A demonstration dataset written by `gmps-vision demos` to use instead of collecting
    /// demonstrations into `RUN/demos/`: every task's, or with `demoOnlyTasks` the demo-only
    /// tasks' (nil: collect every task's from the experts).
    public var demos: String? = nil
    /// Fraction of the meta-training tasks that have demonstrations only (from `demos`): no
    /// expert and no DAgger labels for them (DESIGN.md's hybrid setting). Which tasks is drawn
    /// from the seed (`demoOnlyTaskIndices`).
    public var demoOnlyTasks: Float = 0
    /// Policy image height and width in pixels.
    public var imageHeight = 48
    public var imageWidth = 64

    // MARK: Policy

    /// Initial standard deviation of the per-step action noise. FINDINGS' calibration preferred
    /// 0.7 (over 0.4 and 1.0); the default became 0.3 with the run pipeline (ef464f1), with no
    /// measurement recorded for the change.
    public var initialStd: Float = 0.3
    /// Length of the bias vector concatenated to the keypoints (DESIGN.md: 4): the latent that
    /// per-trajectory exploration probes, pre-training's task codes live in and the default
    /// inner step adapts. A config.json written before this setting existed has 4. On validation
    /// (push, SAC experts, seed 3, 20 goals × 5 draws, after 1 / 2 / 3 steps) 2, the push goal's
    /// own dimension, gave 0.61 / 0.67 / 0.67 after meta-training and 0.52 / 0.69 / 0.69 with no
    /// meta-iterations, against 0.60 / 0.64 / 0.78 and 0.57 / 0.66 / 0.77 at 4.
    public var biasVectorLength = 4
    /// Initial inner step size α on every adapted parameter (FINDINGS: 0.03–0.1).
    public var initialAlpha: Float = 0.05
    /// Initial α of the bias vector. With per-trajectory latents its gradient is a score, and
    /// α = σ_z² makes the step the return-weighted mean offset of the probes (MAESN's natural
    /// step). That offset falls short: a weighted mean of probes lies inside their spread, and
    /// the codes of the tasks lie a median 1.9 σ_z from their mean (push). 1.5 was chosen on
    /// validation (push, scripted experts, no meta-iterations, 20 validation goals × 5 draws after
    /// 1 / 2 / 3 steps, mean of seeds 1–3): per-trajectory exploration 0.41 / 0.61 / 0.63 at 1,
    /// 0.59 / 0.72 / 0.74 at 1.5, 0.54 / 0.66 / 0.72 at 2, 0.59 / 0.63 / 0.65 at 2.5 (seed 3 alone:
    /// 0.50 / 0.63 / 0.61 at 3, 0.36 / 0.56 / 0.52 at 4); latent-only exploration 0.53 / 0.80 /
    /// 0.87 at 1, 0.69 / 0.83 / 0.91 at 1.5.
    public var initialBiasVectorAlpha: Float = 1.5
    /// Which parameters the inner step adapts; the rest of the tail keeps α = 0.
    public var adaptedParameters: AdaptedParameters = .biasVector
    /// Learn α with the outer loop (otherwise it stays at `initialAlpha`).
    public var learnAlpha = true
    /// What the outer loop learns of α: each α_j (today's), or one log α per group of the tail
    /// (`MetaPolicy.alphaGroups`: bias vector, head weights, head biases, log-std), α_j =
    /// exp(log α of its group) on the adapted parameters, which keeps α positive and moves it
    /// by factors. Which learns better is to be measured on validation goals.
    public var alphaParameterisation: AlphaParameterisation = .perParameter
    /// Adam learning rate of α (per parameter) or of log α (per group), constant; nil: θ's
    /// learning rate at every iteration (1e-4 → 1e-5 by default, at which α moves about 0.05
    /// over a whole run).
    public var alphaLearningRate: Float? = nil

    // MARK: Sampling and the inner step

    /// Tasks per meta-iteration (the meta-batch).
    public var tasksPerIteration = 10
    /// K: pre-update rollouts per task and iteration (FINDINGS: 20; 40–50 did not help).
    public var trajectoriesPerTask = 20
    /// How the pre-update policy explores. Latent-only (each rollout one latent, mean actions):
    /// adapting the bias vector, per-step noise only blurs the probes' returns. Validation as
    /// for `initialBiasVectorAlpha` (push, no meta-iterations, α 1.5): scripted experts 0.59 /
    /// 0.72 / 0.74 per-trajectory, 0.69 / 0.83 / 0.91 latent-only (seeds 1–3); SAC experts,
    /// seed 3, 0.58 / 0.69 / 0.76 and 0.56 / 0.67 / 0.83.
    public var exploration: Exploration = .latentOnly(latentStd: 1.0)
    /// At meta-test, the latent's σ_z is multiplied by this at each further adaptation step
    /// (α of the bias vector by its square): later steps refine around the adapted mean instead
    /// of re-exploring at full spread. Validation success after 3 steps (20 validation goals × 5
    /// draws, `evaluate --goals validation --latent-decay F --seed 8`) at 0.25 / 0.5 / 0.75 / 1.0:
    /// push, SAC experts, seed 3: 0.72 / 0.73 / 0.49 / 0.38; push, scripted, seed 3: 0.64 / 0.76 /
    /// 0.65 / 0.59; reach, SAC, seed 1: 0.66 / 0.72 / 0.38 / 0.04. With 10 demonstrations per
    /// task (push, SAC, seed 3): 0.71 / 0.78 / 0.72 at 0.35 / 0.5 / 0.7.
    public var adaptationLatentDecay: Float = 0.5
    /// N, the adaptation steps the outer loss is taken after: step k ≥ 1 explores from the
    /// policy step k − 1 adapted, on fresh rollouts, as meta-test does, and the outer loss is
    /// imitation by φ_N (first order through the steps). With a per-trajectory latent, step k
    /// explores at σ_z · s_k with the bias vector's α · s_k²; s_1 … s_{N−1} are learned
    /// (pathwise, `MetaObjective.multiStepTaskGradient`), started at `adaptationLatentDecay`^k,
    /// and meta-test uses them (`AdaptationSchedule`). 1: the paper's single meta-trained step.
    /// Each step costs an iteration's exploring rollouts again.
    public var metaTrainedSteps = 1
    /// Adam learning rate of the learned latent scales (as log s_k), constant. Over the default
    /// 40 iterations × 20 outer steps a scale can move by a factor of e^8 at most.
    public var latentScaleLearningRate: Float = 1e-2
    /// Discount γ of the returns-to-go.
    public var discount: Float = 0.99
    /// Upper clip of the per-step importance weights π_θ / π_θ0 (FINDINGS: 5).
    public var importanceWeightClip: Float = 5

    // MARK: The outer step

    /// Meta-iterations.
    public var iterations = 40
    /// Adam steps on the outer loss per iteration, on the same rollouts (FINDINGS: 20).
    public var outerSteps = 20
    /// Outer Adam learning rate at the first iteration, decayed linearly to `finalLearningRate`.
    /// Meta-training starts from the behaviour-cloned policy and its task codes; 1e-4 fine-tunes
    /// them. On validation (push, SAC experts, seed 3, 20 goals × 5 draws) 1e-3 gave 0.70 / 0.67
    /// / 0.65 after 1 / 2 / 3 adaptation steps against 0.67 / 0.66 / 0.73 at 1e-4.
    public var learningRate: Float = 1e-4
    public var finalLearningRate: Float = 1e-5
    /// Adam learning rate of behaviour-cloning pre-training (the task codes learn 10x faster).
    public var pretrainLearningRate: Float = 1e-3
    /// Expert samples per task in each outer minibatch.
    public var demosPerTaskBatch = 32
    /// Include the inner gradient's Jacobian, J (α ⊙ g): the Hessian of Ĵ with c held and how
    /// the importance weights and the latent's density ratio move c with θ (`MetaObjective`).
    /// FINDINGS' "first order was no worse, and faster" measured the Hessian alone, which under
    /// per-trajectory latents is ≈ 0; whether the exact term helps is to be measured.
    public var secondOrder = false
    /// Weight of behaviour cloning of the pre-update policy on demos, added to the outer loss.
    public var anchorWeight: Float = 0
    /// Weight of behaviour cloning with each task's own code in the bias-vector slot, added to
    /// the outer loss (0: none). Pre-training's task codes (whitened) are kept and go on
    /// learning beside θ, so the decoder stays precise given the right code while the outer
    /// loss fits the adapted φ_i, whose latents are noisy estimates of it (the anchor above
    /// imitates every task at the mean code instead). Needs a latent per rollout, a bias
    /// vector and pre-training (`learnsTaskCodes`); the command line turns the default off
    /// where there are no codes. On validation (20 goals × 5 draws, after 1 / 2 / 3 steps,
    /// latent-only exploration, α 1.5) W = 1 against 0: push, scripted experts, seeds 1–3,
    /// 0.65 / 0.82 / 0.86 against 0.59 / 0.73 / 0.79 (every seed better at every step); push,
    /// SAC experts, seeds 1–3, 0.58 / 0.72 / 0.80 against 0.54 / 0.61 / 0.70; reach,
    /// scripted, seeds 1–3, 0.27 / 0.58 / 0.72 against 0.31 / 0.55 / 0.70; door, scripted, seeds
    /// 1–2, 0.74 / 0.91 / 0.96 against 0.74 / 0.875 / 0.975. (Under per-trajectory
    /// exploration and α 1 it had made no measurable change, push, SAC, seeds 2–3.)
    public var codeAnchorWeight: Float = 1
    /// Outer steps between recomputing the exploring rollouts' keypoints with the current
    /// encoder (0: never). The outer steps move the encoder that made the keypoints; without a
    /// refresh every outer step of an iteration uses θ0's. With N, outer steps N, 2N, … encode
    /// the rollouts' recorded frames (K·T per task) again. Off by default because it cannot
    /// matter there: bias-vector adaptation under per-trajectory latents steps along
    /// Σ_τ c_τ (z_τ − μ)/σ², which no keypoint enters (tested); it matters with `--adapt head`
    /// or per-step exploration.
    public var featureRefreshEvery = 0

    // MARK: Behaviour-cloning pre-training (FINDINGS: the single most important change)

    /// Adam steps of behaviour cloning on all demos before meta-training (0: none).
    public var pretrainSteps = 3000
    /// Demo samples per pre-training step.
    public var pretrainBatch = 64
    /// How pre-training whitens the learned task codes into the first layer
    /// (`BehaviourCloning.whitenTaskCodes`), which sets where meta-training's and meta-test's
    /// latent probes N(0, I) land: in the codes' per-dimension spread, or in the Gaussian fitted
    /// to them, correlations included. A config.json written before this setting existed is
    /// per-dimension. On validation (push, SAC experts, seed 3, 20 goals × 5 draws) full gave
    /// 0.60 / 0.72 / 0.67 after 1 / 2 / 3 steps against 0.60 / 0.64 / 0.78 per dimension.
    public var taskCodeWhitening: TaskCodeWhitening = .perDimension

    // MARK: DAgger

    /// Iteration from which adapted policies' visited states are relabelled by the expert
    /// (nil: no DAgger). FINDINGS: uncapped DAgger from the start collapsed exploration.
    public var daggerStartIteration: Int? = nil
    /// Largest share of each task's outer minibatch drawn from relabelled states.
    public var daggerShare: Float = 0.3

    // MARK: Validation (a learning curve on held-out goals)

    /// Held-out validation goals: drawn after the meta-training goals and the first
    /// `validationTestReserve` meta-test goals of the seeded split, so disjoint from both.
    public var validationGoals = 10
    /// Iterations between evaluations of θ, α on the validation goals, as meta-test evaluates
    /// (and after the last iteration); 0: none. Validation has its own random stream and leaves
    /// training's state alone: θ is the same with it or without.
    public var validationEvery = 5
    /// Independent adaptation draws per validation goal.
    public var validationDraws = 2
    /// Adaptation steps at validation; success after the last is recorded.
    public var validationAdaptationSteps = 1

    // MARK: Runs

    /// Master seed: tasks, noise, initialisation and minibatches all derive from it.
    public var seed: UInt64 = 1
    /// Worker threads for rollouts and per-task gradients.
    public var threads = 2

    public init() {}

    /// The default configuration on `environment`, with that environment's expert budget.
    public init(environment: EnvironmentName) {
        self.init()
        self.environment = environment
        expertSteps = Self.defaultExpertSteps(environment)
        demosPerTask = Self.defaultDemosPerTask(environment)
    }

    /// Demonstrations per task that the default run collects on `environment`:
    /// - push: 10. The SAC experts' labels are harder to imitate than the scripted controller's
    ///   (their noisy demonstrations end a median 3.1 cm from the goal against 2.1 cm, the
    ///   success radius being 5 cm), and twice the demonstrations lifted validation success
    ///   after one step at iteration 40 (10 goals × 2 draws, seeds 1–3) from 0.40 / 0.70 / 0.70
    ///   to 0.55 / 0.70 / 0.75, and after three steps on 20 validation goals × 5 draws
    ///   (`evaluate --goals validation --adapt-steps 3 --seed 8`) from 0.60 / 0.70 / 0.73 to
    ///   0.76 / 0.73 / 0.78, for 3 seconds more of collection.
    /// - reach: 5. At 10 (seed 1, SAC experts) validation fell to 0.27 / 0.61 after one / three
    ///   steps from 0.42 / 0.72.
    /// - door: 5, not yet measured at 10.
    public static func defaultDemosPerTask(_ environment: EnvironmentName) -> Int {
        environment == .push ? 10 : 5
    }

    /// SAC steps per expert that the default run gives on `environment`, chosen on the experts'
    /// own success and on validation success (seed 1, 10 goals × 2 draws, iteration 40):
    /// - push and reach: 40,000. Push experts trained under σ 0.3 action noise first met the
    ///   solved test (clean success, ≥ 7/8 noisy) after 8,000–32,000 steps (10 tasks, seed 1);
    ///   every reach expert was solved within the budget (370,000 steps for 60 experts).
    /// - door: 100,000. At 40,000, 8 of 60 experts never opened the door (goals of 0.68 rad or
    ///   more) and validation success after one step was 0.45; at 100,000, 3 failed (0.835,
    ///   0.915, 0.967 rad) and validation rose to 0.65, the scripted controller's figure
    ///   (14 min 7 s for the whole run on 2 free cores).
    public static func defaultExpertSteps(_ environment: EnvironmentName) -> Int {
        switch environment {
        case .push, .reach: return 40_000
        case .door: return 100_000
        }
    }

    /// Every stage on a tiny budget (about a minute on 2 cores): what the tests and CI run.
    public static func quick(_ environment: EnvironmentName) -> GMPSConfig {
        var config = GMPSConfig()
        config.environment = environment
        config.metaTrainTasks = 4
        config.demosPerTask = 1
        config.tasksPerIteration = 2
        config.trajectoriesPerTask = 4
        config.iterations = 2
        config.outerSteps = 2
        config.pretrainSteps = 20
        config.pretrainBatch = 16
        config.demosPerTaskBatch = 8
        config.expertSteps = 300
        config.validationGoals = 2
        config.validationDraws = 1
        return config
    }

    /// How the outer loop parameterises the inner step sizes α (`alphaParameterisation`).
    public enum AlphaParameterisation: String, Codable, Sendable, CaseIterable {
        /// One α per tail parameter, learned directly.
        case perParameter = "per-parameter"
        /// One log α per parameter group of the tail.
        case logPerGroup = "log-per-group"
    }

    /// How pre-training whitens the task codes (`taskCodeWhitening`).
    public enum TaskCodeWhitening: String, Codable, Sendable, CaseIterable {
        /// Each code dimension to zero mean and unit variance.
        case perDimension = "per-dimension"
        /// The codes to zero mean and identity covariance (Cholesky of their covariance).
        case full
    }

    /// Which of the policy's tail parameters the inner step moves.
    public enum AdaptedParameters: String, Codable, Sendable, CaseIterable {
        /// Only the bias-transformation vector (with per-trajectory exploration, MAESN's latent mean).
        case biasVector = "bias-vector"
        /// The bias vector, the fully connected head and the log-std.
        case head
    }

    /// The largest image side the policy takes: beyond it memory, not the network, is the
    /// limit (at 1024x1024 each rollout in flight holds about 100 MB of frames and activations).
    public static let maximumImageSide = 1024

    /// Meta-test goals that come before the validation goals in the seeded split: evaluations of
    /// up to this many meta-test goals never meet a validation goal.
    public static let validationTestReserve = 1_000

    /// The outer learning rate at `iteration` (0-based) of `iterations`.
    public func learningRate(at iteration: Int) -> Float {
        guard iterations > 1 else { return learningRate }
        let progress = Float(iteration) / Float(iterations - 1)
        return learningRate + (finalLearningRate - learningRate) * progress
    }

    /// A sentence naming the first setting out of range, or nil.
    public func problem() -> String? { invalidSetting()?.description }

    /// Whether pre-training learns a code per task (what the code anchor imitates at): it needs
    /// a latent per rollout (the codes are where the latents are drawn), a bias vector to hold
    /// them and pre-training steps.
    public var learnsTaskCodes: Bool { exploration.latentStd != nil && biasVectorLength > 0 && pretrainSteps > 0 }

    /// The first setting out of range, or nil. Every bound on a field lives here; the CLI
    /// names the option a user typed instead of the field (`InvalidSetting.sentence(naming:)`).
    public func invalidSetting() -> InvalidSetting? {
        func invalid(_ key: CodingKeys, _ requirement: String) -> InvalidSetting {
            InvalidSetting(field: key.stringValue, requirement: requirement)
        }
        if imageHeight < 16 || imageWidth < 16 {
            return invalid(imageHeight < 16 ? .imageHeight : .imageWidth,
                           "\(imageHeight)x\(imageWidth) is too small for the policy's three convolutions; use at least 16x16 (default 48x64).")
        }
        let side = Self.maximumImageSide
        if imageHeight > side || imageWidth > side {
            return invalid(imageHeight > side ? .imageHeight : .imageWidth,
                           "\(imageHeight)x\(imageWidth) is larger than the policy's limit of \(side)x\(side) "
                           + "(rollouts, demos and activations all grow with the pixels); use at most \(side) per side (default 48x64).")
        }
        if metaTrainTasks < 1 { return invalid(.metaTrainTasks, "must be at least 1; got \(metaTrainTasks).") }
        let capacity = TaskDistribution(environment).capacity
        if metaTrainTasks > capacity {
            return invalid(.metaTrainTasks, "must be at most \(capacity), the distinct goals the \(environment) task "
                           + "distribution holds; got \(metaTrainTasks).")
        }
        if demosPerTask < 1 {
            return invalid(.demosPerTask, "must be at least 1: behaviour cloning needs a demonstration of every task; got \(demosPerTask).")
        }
        if expertSteps < 1 { return invalid(.expertSteps, "must be at least 1; got \(expertSteps).") }
        if !(demoNoise >= 0 && demoNoise <= 2) {
            return invalid(.demoNoise, "must be a standard deviation in [0, 2] (actions lie in [-1, 1]; 0 repeats one episode per task); got \(demoNoise).")
        }
        if !(0...1).contains(demoOnlyTasks) { return invalid(.demoOnlyTasks, "must be a fraction in [0, 1]; got \(demoOnlyTasks).") }
        if demoOnlyTasks > 0 && demos == nil {
            return invalid(.demoOnlyTasks, "needs a demonstration dataset (demos): the demo-only tasks have no expert to collect them from.")
        }
        if demos == "" { return invalid(.demos, "must name a dataset folder; got an empty path.") }
        if case .folder("") = experts { return invalid(.experts, "must be scripted, sac, sac:goal-conditioned or an expert folder; got an empty path.") }
        if iterations < 0 { return invalid(.iterations, "must be at least 0; got \(iterations).") }
        if tasksPerIteration < 1 { return invalid(.tasksPerIteration, "must be at least 1; got \(tasksPerIteration).") }
        if trajectoriesPerTask < 2 {
            return invalid(.trajectoriesPerTask, "must be at least 2: advantages need more than one rollout; got \(trajectoriesPerTask).")
        }
        if outerSteps < 1 { return invalid(.outerSteps, "must be at least 1; got \(outerSteps).") }
        if pretrainSteps < 0 { return invalid(.pretrainSteps, "must be at least 0; got \(pretrainSteps).") }
        if !(learningRate > 0) { return invalid(.learningRate, "must be positive; got \(learningRate).") }
        if !(finalLearningRate > 0) { return invalid(.finalLearningRate, "must be positive; got \(finalLearningRate).") }
        if !(pretrainLearningRate > 0) { return invalid(.pretrainLearningRate, "must be positive; got \(pretrainLearningRate).") }
        if !(initialStd > 0) { return invalid(.initialStd, "must be positive; got \(initialStd).") }
        if !(1...64).contains(biasVectorLength) {
            return invalid(.biasVectorLength, "must be in 1…64: the latent that exploration probes and adaptation moves; got \(biasVectorLength).")
        }
        if !(initialAlpha >= 0) { return invalid(.initialAlpha, "must be at least 0; got \(initialAlpha).") }
        if !(initialBiasVectorAlpha >= 0) { return invalid(.initialBiasVectorAlpha, "must be at least 0; got \(initialBiasVectorAlpha).") }
        if alphaParameterisation == .logPerGroup, !(initialAlpha > 0 && initialBiasVectorAlpha > 0) {
            let (key, value) = initialAlpha > 0 ? (CodingKeys.initialBiasVectorAlpha, initialBiasVectorAlpha) : (.initialAlpha, initialAlpha)
            return invalid(key, "must be positive when α is learned as log α per group (log 0 is −∞); got \(value).")
        }
        if let rate = alphaLearningRate, !(rate > 0 && rate.isFinite) {
            return invalid(.alphaLearningRate, "must be positive; got \(rate).")
        }
        if let std = exploration.latentStd, !(std > 0) {
            return invalid(.exploration, "needs a positive latent standard deviation; got \(std).")
        }
        if case .latentOnly = exploration, adaptedParameters == .head {
            return invalid(.exploration, "latent-only explores with mean actions, which leave the head's weights no policy gradient; adapt the bias vector (--adapt bias-vector) or explore per-trajectory.")
        }
        if !(1...5).contains(metaTrainedSteps) {
            return invalid(.metaTrainedSteps, "must be in 1...5 (each step costs an iteration's rollouts again); got \(metaTrainedSteps).")
        }
        if !(latentScaleLearningRate > 0 && latentScaleLearningRate.isFinite) {
            return invalid(.latentScaleLearningRate, "must be positive; got \(latentScaleLearningRate).")
        }
        if metaTrainedSteps > 1 && secondOrder {
            return invalid(.secondOrder, "is exact for one meta-trained step only; with metaTrainedSteps \(metaTrainedSteps) the meta-gradient is first order (drop the second order, or train one step).")
        }
        if metaTrainedSteps > 1 && featureRefreshEvery > 0 {
            return invalid(.featureRefreshEvery, "re-encodes the first step's rollouts only; it needs metaTrainedSteps 1 (got \(metaTrainedSteps)).")
        }
        if let start = daggerStartIteration, start < 0 {
            return invalid(.daggerStartIteration, "must be at least 0 (the first iteration is 0); got \(start).")
        }
        if !(0...1).contains(daggerShare) { return invalid(.daggerShare, "must be in [0, 1]; got \(daggerShare).") }
        if featureRefreshEvery < 0 {
            return invalid(.featureRefreshEvery, "must be at least 0 (0: never); got \(featureRefreshEvery).")
        }
        if !(anchorWeight >= 0 && anchorWeight.isFinite) {
            return invalid(.anchorWeight, "must be a finite weight of at least 0 (0: no anchor); got \(anchorWeight).")
        }
        if !(codeAnchorWeight >= 0 && codeAnchorWeight.isFinite) {
            return invalid(.codeAnchorWeight, "must be a finite weight of at least 0 (0: no code anchor); got \(codeAnchorWeight).")
        }
        if codeAnchorWeight > 0 && !learnsTaskCodes {
            return invalid(.codeAnchorWeight, "needs the task codes that pre-training learns: a latent per rollout, a bias vector and pre-training steps (--exploration latent-only or per-trajectory, --bias-vector-length and --pretrain-steps at least 1; got \(exploration.latentStd == nil ? "no latent" : "a latent"), bias vector \(biasVectorLength), \(pretrainSteps) pre-training steps).")
        }
        if let problem = invalidValidationSetting(capacity: capacity) { return problem }
        if demosPerTaskBatch < 1 { return invalid(.demosPerTaskBatch, "must be at least 1; got \(demosPerTaskBatch).") }
        if pretrainBatch < 1 { return invalid(.pretrainBatch, "must be at least 1; got \(pretrainBatch).") }
        if !(1...256).contains(threads) { return invalid(.threads, "must be between 1 and 256; got \(threads).") }
        return memoryEstimate.exceeding(MemoryEstimate.physicalMemory)
            .map { InvalidSetting(field: $0.field, requirement: $0.sentence) }
    }
}

extension GMPSConfig {
    /// The first validation setting out of range, or nil (`capacity`: the task distribution's).
    func invalidValidationSetting(capacity: Int) -> InvalidSetting? {
        func invalid(_ key: CodingKeys, _ requirement: String) -> InvalidSetting {
            InvalidSetting(field: key.stringValue, requirement: requirement)
        }
        if validationEvery < 0 { return invalid(.validationEvery, "must be at least 0 (0: no validation); got \(validationEvery).") }
        if validationGoals < 1 { return invalid(.validationGoals, "must be at least 1; got \(validationGoals).") }
        if validationDraws < 1 { return invalid(.validationDraws, "must be at least 1; got \(validationDraws).") }
        if !(1...10).contains(validationAdaptationSteps) {
            return invalid(.validationAdaptationSteps, "must be in 1...10; got \(validationAdaptationSteps).")
        }
        let room = capacity - metaTrainTasks - Self.validationTestReserve
        if validationEvery > 0 && validationGoals > room {
            return invalid(.validationGoals, "must be at most \(max(room, 0)): the \(environment) task distribution holds \(capacity) goals, "
                           + "\(metaTrainTasks) are for meta-training and \(Self.validationTestReserve) kept for meta-test; "
                           + "use fewer, or turn validation off (validationEvery 0).")
        }
        return nil
    }
}

/// A setting out of range: its `config.json` key and what it must be.
public struct InvalidSetting: Equatable, Sendable, CustomStringConvertible {
    /// The field's key in `config.json`, e.g. `trajectoriesPerTask`.
    public var field: String
    /// What the value must be, and why, as the end of a sentence: "must be at least 2: …".
    public var requirement: String

    /// The sentence with the field named as `name` (e.g. the command-line option that sets it).
    public func sentence(naming name: String) -> String { "\(name) \(requirement)" }

    public var description: String { sentence(naming: field) }
}

extension GMPSConfig {
    /// Reads a configuration, taking the default for every field the file does not name, so
    /// a run directory written before a setting existed still loads. The switch is over the
    /// synthesized `CodingKeys` (one case per stored property): a new field that is not read
    /// here does not compile.
    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in container.allKeys {
            switch key {
            case .environment: try container.decode(&environment, forKey: key)
            case .reward: try container.decode(&reward, forKey: key)
            case .metaTrainTasks: try container.decode(&metaTrainTasks, forKey: key)
            case .demosPerTask: try container.decode(&demosPerTask, forKey: key)
            case .demoNoise: try container.decode(&demoNoise, forKey: key)
            case .demoEpisodes: try container.decode(&demoEpisodes, forKey: key)
            case .experts: try container.decode(&experts, forKey: key)
            case .expertSteps: try container.decode(&expertSteps, forKey: key)
            case .demos: try container.decode(&demos, forKey: key)
            case .demoOnlyTasks: try container.decode(&demoOnlyTasks, forKey: key)
            case .imageHeight: try container.decode(&imageHeight, forKey: key)
            case .imageWidth: try container.decode(&imageWidth, forKey: key)
            case .initialStd: try container.decode(&initialStd, forKey: key)
            case .biasVectorLength: try container.decode(&biasVectorLength, forKey: key)
            case .initialAlpha: try container.decode(&initialAlpha, forKey: key)
            case .initialBiasVectorAlpha: try container.decode(&initialBiasVectorAlpha, forKey: key)
            case .adaptedParameters: try container.decode(&adaptedParameters, forKey: key)
            case .learnAlpha: try container.decode(&learnAlpha, forKey: key)
            case .alphaParameterisation: try container.decode(&alphaParameterisation, forKey: key)
            case .alphaLearningRate: try container.decode(&alphaLearningRate, forKey: key)
            case .tasksPerIteration: try container.decode(&tasksPerIteration, forKey: key)
            case .trajectoriesPerTask: try container.decode(&trajectoriesPerTask, forKey: key)
            case .exploration: try container.decode(&exploration, forKey: key)
            case .adaptationLatentDecay: try container.decode(&adaptationLatentDecay, forKey: key)
            case .metaTrainedSteps: try container.decode(&metaTrainedSteps, forKey: key)
            case .latentScaleLearningRate: try container.decode(&latentScaleLearningRate, forKey: key)
            case .discount: try container.decode(&discount, forKey: key)
            case .importanceWeightClip: try container.decode(&importanceWeightClip, forKey: key)
            case .iterations: try container.decode(&iterations, forKey: key)
            case .outerSteps: try container.decode(&outerSteps, forKey: key)
            case .learningRate: try container.decode(&learningRate, forKey: key)
            case .finalLearningRate: try container.decode(&finalLearningRate, forKey: key)
            case .pretrainLearningRate: try container.decode(&pretrainLearningRate, forKey: key)
            case .demosPerTaskBatch: try container.decode(&demosPerTaskBatch, forKey: key)
            case .secondOrder: try container.decode(&secondOrder, forKey: key)
            case .anchorWeight: try container.decode(&anchorWeight, forKey: key)
            case .codeAnchorWeight: try container.decode(&codeAnchorWeight, forKey: key)
            case .featureRefreshEvery: try container.decode(&featureRefreshEvery, forKey: key)
            case .pretrainSteps: try container.decode(&pretrainSteps, forKey: key)
            case .pretrainBatch: try container.decode(&pretrainBatch, forKey: key)
            case .taskCodeWhitening: try container.decode(&taskCodeWhitening, forKey: key)
            case .daggerStartIteration: try container.decode(&daggerStartIteration, forKey: key)
            case .daggerShare: try container.decode(&daggerShare, forKey: key)
            case .validationGoals: try container.decode(&validationGoals, forKey: key)
            case .validationEvery: try container.decode(&validationEvery, forKey: key)
            case .validationDraws: try container.decode(&validationDraws, forKey: key)
            case .validationAdaptationSteps: try container.decode(&validationAdaptationSteps, forKey: key)
            case .seed: try container.decode(&seed, forKey: key)
            case .threads: try container.decode(&threads, forKey: key)
            }
        }
        // Written before the code anchor existed: the run had none.
        if !container.contains(.codeAnchorWeight) { codeAnchorWeight = 0 }
        // A config.json edited by hand is held to the same bounds as the options.
        if let invalid = invalidSetting() {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys(stringValue: invalid.field) ?? CodingKeys.threads],
                                                    debugDescription: invalid.requirement))
        }
    }
}

extension KeyedDecodingContainer {
    /// Replaces `value` with the one stored under `key` (which must be present). Foundation
    /// fails on a number outside the field's type (a negative seed) with an internal error that
    /// reaches the user as "not valid JSON"; this names the key, the number and the range instead.
    func decode<T: Decodable>(_ value: inout T, forKey key: Key) throws {
        do {
            value = try decode(T.self, forKey: key)
        } catch where !(error is DecodingError) {
            guard let number = try? decode(Double.self, forKey: key) else { throw error }
            let expected = T.self == UInt64.self ? "a whole number from 0 to \(UInt64.max)" : "a value of type \(T.self)"
            let shown = number == number.rounded() && abs(number) < 1e18 ? "\(Int64(number))" : "\(number)"
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key],
                                                    debugDescription: "\(shown) is out of range; expected \(expected)"))
        }
    }
}
