import type { HeatTable } from '../heat/heat-table.js';

export type TrackerName = 'idle_pages' | 'page_idle' | 'damon';

export interface WalkResult {
  status: 'ok' | 'gone';
  reads: number;
  bytes: number;
  /** reads whose cursor did not advance (idle_pages only) */
  stalls: number;
  /** kernel I/O refused for a span, which stayed unknown this walk (page_idle), and the last reason */
  refused?: number;
  refusal?: string;
}

/** One target of a walk of several (Tracker.walkMany). */
export interface WalkItem {
  pid: number;
  ranges: Float64Array;
  heat: HeatTable | null;
  full?: boolean;
}

/**
 * An access-bit source. A walk reads (and clears) the accessed information of one process over
 * its trackable ranges and folds it into the heat table; with heat = null it only clears.
 */
export interface Tracker {
  readonly name: TrackerName;
  /**
   * What one walk's "accessed" means for a page: its own access bit (page), or an access
   * sampled somewhere in the region around it (region: DAMON), which makes one walk's evidence
   * a sampled density rather than a fact about the page.
   */
  readonly grain: 'page' | 'region';
  /**
   * One walk. `full`: read every page's own bit this walk, no shortcut (idle_pages' skim):
   * a skimmed table tells nothing about pages the heat table does not know yet.
   */
  walk(pid: number, ranges: Float64Array, heat: HeatTable | null, full?: boolean): Promise<WalkResult>;
  /**
   * One walk of several targets at once, when the tracker can share work between them (page_idle:
   * a bitmap word holding frames of several targets is read once); results in the items' order.
   */
  walkMany?(items: readonly WalkItem[]): Promise<WalkResult[]>;
  /**
   * A walk clears the bits it reads before its window opens (page_idle marks, then reads): bits
   * older than the interval never reach it, so the daemon makes no priming walk.
   */
  readonly primesItself?: boolean;
  /** walks of different targets that may run at once (read workers); 1 when absent */
  readonly concurrency?: number;
  /** The interval between walks, before each period (page_idle's window per page). */
  setInterval?(ms: number): void;
  /** The set of processes changed (DAMON restarts its monitoring). */
  setTargets?(pids: number[]): void;
  /** Release kernel resources (DAMON's kdamond). */
  close?(): void;
  /** Where the tracker's results come from, when it has a choice (logged when it changes). */
  source?(): string;
}
