//! The runtime: a generic interpreter of the frozen plan. It claims work,
//! dispatches stages to runners, routes their outcomes through the plan and
//! persists every step. It contains no stage names: behaviour that differs
//! per stage is data in the plan (routes, finals, handoffs, effects by id).

pub mod route;
