//! Tables and their owners. Only the owner writes a table; others ask it over HTTP.
//!
//! | table | owner |
//! |---|---|
//! | users, refresh_tokens | gateway (others read `users.timezone` and `users.preferences`) |
//! | drugs, drug_images, recognitions, recognition_quotas, products, medication_plans, dose_logs, refills, households, household_members, household_invitations, caregiver_actions | svc-drugs |
//! | job_runs, job_items, notifications, devices, deliveries, delivery_attempts, app_devices, notification_settings | svc-scheduler |
//! | conversations, messages, events, event_tombstones, sync_clocks, snapshots, diaries, profiles, profile_logs, chat_usage, chat_feedback, chat_user_state, projects, calendar_feeds, checkins, chat_turns, pending_actions, memories, memory_digests, memory_runs, conversation_summaries | svc-chat |

pub mod app_device;
pub mod calendar_feed;
pub mod caregiver_action;
pub mod chat_feedback;
pub mod chat_turn;
pub mod chat_usage;
pub mod chat_user_state;
pub mod checkin;
pub mod conversation;
pub mod conversation_summary;
pub mod delivery;
pub mod delivery_attempt;
pub mod device;
pub mod diary;
pub mod dose_log;
pub mod drug;
pub mod drug_image;
pub mod event;
pub mod event_tombstone;
pub mod household;
pub mod household_invitation;
pub mod household_member;
pub mod job_item;
pub mod job_run;
pub mod medication_plan;
pub mod memory;
pub mod memory_digest;
pub mod memory_run;
pub mod message;
pub mod notification;
pub mod notification_setting;
pub mod pending_action;
pub mod product;
pub mod profile;
pub mod profile_log;
pub mod project;
pub mod recognition;
pub mod recognition_quota;
pub mod refill;
pub mod refresh_token;
pub mod snapshot;
pub mod sync_clock;
pub mod user;
