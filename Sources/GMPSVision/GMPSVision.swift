// GMPSVision: Guided Meta-Policy Search from pixels (DESIGN.md sections 2 and 4).
//
//   Experts/       phase 1: SAC on privileged state (and scripted references)
//   Demos/         demonstration datasets collected from experts
//   Sampling/      rollouts from pixels, advantages, the linear baseline
//   GMPS/          phase 2: the inner step, the meta-objective, behaviour cloning, meta-training
//   Training/      the skeleton GMPS and the baselines share: state and its Adam step,
//                  random streams, the meta-batch split over ranks and threads
//   Baselines/     MAML-PG, multi-task behaviour cloning, policy gradient from scratch, expert
//   Evaluation/    meta-test adaptation on held-out goals and its summary
//   RunDirectory/  checkpoints, progress, reports
//   Distributed/   one process or an MPI world
