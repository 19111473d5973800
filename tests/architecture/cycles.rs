//! Circles of imports between files: the strongly connected components of
//! the file graph (Tarjan), each shown as one concrete circle.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// The files (by index) that reach each other, groups of two or more.
pub fn circles(nodes: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for &(from, to) in edges {
        next[from].push(to);
    }
    let mut tarjan = Tarjan::new(&next);
    for node in 0..nodes {
        if tarjan.index[node].is_none() {
            tarjan.visit(node);
        }
    }
    tarjan.components.retain(|c| c.len() > 1);
    tarjan.components
}

struct Tarjan<'a> {
    next: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    components: Vec<Vec<usize>>,
}

impl<'a> Tarjan<'a> {
    fn new(next: &'a [Vec<usize>]) -> Tarjan<'a> {
        let n = next.len();
        Tarjan {
            next,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            counter: 0,
            components: Vec::new(),
        }
    }

    fn visit(&mut self, node: usize) {
        self.index[node] = Some(self.counter);
        self.low[node] = self.counter;
        self.counter += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
        for &to in self.next[node].iter() {
            match self.index[to] {
                None => {
                    self.visit(to);
                    self.low[node] = self.low[node].min(self.low[to]);
                }
                Some(i) if self.on_stack[to] => self.low[node] = self.low[node].min(i),
                Some(_) => {}
            }
        }
        if Some(self.low[node]) == self.index[node] {
            self.pop_component(node);
        }
    }

    fn pop_component(&mut self, root: usize) {
        let mut component = Vec::new();
        while let Some(node) = self.stack.pop() {
            self.on_stack[node] = false;
            component.push(node);
            if node == root {
                break;
            }
        }
        component.sort_unstable();
        self.components.push(component);
    }
}

/// One circle through `component`, starting and ending at its first node:
/// the shortest way back found breadth first.
pub fn one_circle(component: &[usize], edges: &[(usize, usize)]) -> Vec<usize> {
    let start = component[0];
    let inside = |n: &usize| component.contains(n);
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut reached = Vec::new();
        for &node in &frontier {
            for &(from, to) in edges.iter().filter(|(f, t)| *f == node && inside(t)) {
                if to == start {
                    return walk_back(&came_from, from, start);
                }
                if let Entry::Vacant(slot) = came_from.entry(to) {
                    slot.insert(from);
                    reached.push(to);
                }
            }
        }
        frontier = reached;
    }
    component.to_vec()
}

/// The way from `start` to `last` (by `came_from`), then back to `start`.
fn walk_back(came_from: &BTreeMap<usize, usize>, last: usize, start: usize) -> Vec<usize> {
    let mut path = vec![last];
    let mut node = last;
    while let Some(&previous) = came_from.get(&node) {
        path.push(previous);
        node = previous;
    }
    if node != start {
        path.push(start);
    }
    path.reverse();
    path.push(start);
    path
}

#[test]
fn a_circle_is_found_and_shown_from_its_first_file() {
    let edges = [(0, 1), (1, 2), (2, 0), (2, 3)];
    let found = circles(4, &edges);
    assert_eq!(found, [vec![0, 1, 2]]);
    assert_eq!(one_circle(&found[0], &edges), [0, 1, 2, 0]);
    assert!(circles(3, &[(0, 1), (1, 2)]).is_empty());
}
