//! Every error code a client can receive, with its HTTP status and a Chinese text, in one
//! place (the pattern of Meilisearch's and Lemmy's error enums). `docs/API.md` lists them; a
//! test (`shared/tests/api_docs.rs`) compares that table with [`ErrorCode::ALL`].

use actix_web::http::StatusCode;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $status:ident, $zh:literal; )*) => {
        /// A stable, machine-readable error code (`code` in the error envelope).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status every answer with this code has.
            pub const fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )* }
            }

            /// A Chinese text for the user, for clients that show an error's message as is
            /// (the original drug-serve frontend). Where the English message names what to
            /// fix, a handler may write its own Chinese text instead.
            pub const fn zh(self) -> &'static str {
                match self { $( ErrorCode::$variant => $zh, )* }
            }
        }
    };
}

error_codes! {
    // Requests that cannot be read.
    BadRequest = "bad_request", BAD_REQUEST, "请求内容有误，请检查后重试";
    ValidationError = "validation_error", BAD_REQUEST, "输入有误，请检查后重试";
    InvalidJson = "invalid_json", BAD_REQUEST, "请求内容不是有效的 JSON";
    InvalidPath = "invalid_path", BAD_REQUEST, "链接中的参数有误";
    InvalidQuery = "invalid_query", BAD_REQUEST, "查询参数有误";
    BadMultipart = "bad_multipart", BAD_REQUEST, "上传内容不完整，请重新上传";
    EmptyFile = "empty_file", BAD_REQUEST, "有一张图片是空文件，请重新选择";
    NoFiles = "no_files", BAD_REQUEST, "请至少上传一张图片";
    TooManyFiles = "too_many_files", BAD_REQUEST, "上传的图片太多了";
    UnknownControlPath = "unknown_control_path", BAD_REQUEST, "不支持的调用路径";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "上传内容太大，请选择较小的图片";
    FileTooLarge = "file_too_large", PAYLOAD_TOO_LARGE, "文件超过大小限制，请选择较小的图片";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "只支持 JPEG、PNG 和 WebP 格式的图片";
    UnprocessableImage = "unprocessable_image", UNPROCESSABLE_ENTITY, "无法读取这张图片（文件可能已损坏或尺寸过大），请换一张照片";
    InvalidCode = "invalid_code", BAD_REQUEST, "无法读取这个码（格式或校验位不对），请重新扫描";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "不支持这种请求方式";
    RequestTimeout = "request_timeout", REQUEST_TIMEOUT, "请求超时，请重试";
    // Who is asking.
    Unauthorized = "unauthorized", UNAUTHORIZED, "请先登录";
    MissingToken = "missing_token", UNAUTHORIZED, "请先登录";
    InvalidToken = "invalid_token", UNAUTHORIZED, "登录已失效，请重新登录";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "账号或密码不正确";
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED, "登录已失效，请重新登录";
    RefreshTokenReused = "refresh_token_reused", UNAUTHORIZED, "登录已失效，请重新登录";
    AccountGone = "account_gone", UNAUTHORIZED, "账号已不存在";
    InvalidIdentityToken = "invalid_identity_token", UNAUTHORIZED, "Apple 登录凭证无效，请重新登录";
    PasswordRequired = "password_required", UNAUTHORIZED, "这个账号需要用密码或通过 Apple 登录";
    InternalTokenRequired = "internal_token_required", UNAUTHORIZED, "内部调用缺少凭证";
    InternalTokenInvalid = "internal_token_invalid", UNAUTHORIZED, "内部调用凭证无效";
    UserRequired = "user_required", UNAUTHORIZED, "内部调用缺少用户";
    Forbidden = "forbidden", FORBIDDEN, "没有权限";
    PasswordlessDisabled = "passwordless_disabled", FORBIDDEN, "不支持免密码登录，请使用密码或通过 Apple 登录";
    // What is asked for.
    NotFound = "not_found", NOT_FOUND, "请求的内容不存在";
    DrugNotFound = "drug_not_found", NOT_FOUND, "药品不存在";
    ImageNotFound = "image_not_found", NOT_FOUND, "图片不存在";
    RecognitionNotFound = "recognition_not_found", NOT_FOUND, "识别记录不存在";
    MedicationNotFound = "medication_not_found", NOT_FOUND, "用药计划不存在";
    DoseNotFound = "dose_not_found", NOT_FOUND, "这次服药不存在";
    ConversationNotFound = "conversation_not_found", NOT_FOUND, "对话不存在";
    MessageNotFound = "message_not_found", NOT_FOUND, "这条消息不存在";
    EventNotFound = "event_not_found", NOT_FOUND, "日程不存在";
    ProjectNotFound = "project_not_found", NOT_FOUND, "项目不存在";
    DiaryNotFound = "diary_not_found", NOT_FOUND, "这一天还没有日记";
    NoMessages = "no_messages", NOT_FOUND, "这一天没有聊天记录，写不出日记";
    SnapshotNotFound = "snapshot_not_found", NOT_FOUND, "没有可以撤销的操作记录";
    NothingToUndo = "nothing_to_undo", NOT_FOUND, "没有可以撤销的操作";
    NotificationNotFound = "notification_not_found", NOT_FOUND, "通知不存在";
    DeviceNotFound = "device_not_found", NOT_FOUND, "设备不存在";
    TemplateNotFound = "template_not_found", NOT_FOUND, "没有这个通知模板";
    WebPushDisabled = "webpush_disabled", NOT_FOUND, "这台服务器没有开启网页推送";
    JobNotFound = "job_not_found", NOT_FOUND, "没有这个任务";
    HabitNotFound = "habit_not_found", NOT_FOUND, "这个习惯不存在";
    CalendarFeedNotFound = "calendar_feed_not_found", NOT_FOUND, "日历订阅地址无效或已停用";
    MemoryNotFound = "memory_not_found", NOT_FOUND, "没有这条记忆";
    TurnNotFound = "turn_not_found", NOT_FOUND, "找不到这次回复（可能已超过一天），请重新发送";
    UnknownProduct = "unknown_product", NOT_FOUND, "目录里还没有这个产品，请拍一张药盒照片识别";
    HouseholdNotFound = "household_not_found", NOT_FOUND, "家庭不存在";
    PersonNotFound = "person_not_found", NOT_FOUND, "找不到这位家人（可能已不在你的家庭中）";
    InvitationNotFound = "invitation_not_found", NOT_FOUND, "邀请码不对，请检查后重试";
    InvitationExpired = "invitation_expired", GONE, "这个邀请码已过期，请让家庭创建者重新邀请";
    // Conflicts with what is there.
    UserExists = "user_exists", CONFLICT, "这个账号名已被注册";
    EmailTaken = "email_taken", CONFLICT, "这个邮箱已被使用";
    RecognitionSucceeded = "recognition_succeeded", CONFLICT, "这次识别已经成功，无需重试";
    SnapshotReverted = "snapshot_reverted", CONFLICT, "这次操作已经撤销过了";
    EventExists = "event_exists", CONFLICT, "这个日程已经存在";
    PrnLimitReached = "prn_limit_reached", CONFLICT, "现在不能再服这个药（间隔或 24 小时上限）";
    TooManyDevices = "too_many_devices", CONFLICT, "设备数量已达上限";
    InvitationUsed = "invitation_used", CONFLICT, "这个邀请码已经用过了，请让家庭创建者重新邀请";
    AlreadyMember = "already_member", CONFLICT, "你已经在这个家庭里了";
    OwnerMustStay = "owner_must_stay", CONFLICT, "家庭创建者不能退出：请先把创建者转给别人，或删除这个家庭";
    DependentHasRecords = "dependent_has_records", CONFLICT, "这位家人还有药品或服药计划，请先删除它们";
    LimitReached = "limit_reached", CONFLICT, "数量已达上限，请先删除一些再添加";
    // Limits.
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "请求太频繁，请稍后再试";
    QuotaExceeded = "quota_exceeded", TOO_MANY_REQUESTS, "今天的使用次数已用完，请明天再试";
    // Ours and our dependencies'.
    InternalError = "internal_error", INTERNAL_SERVER_ERROR, "服务器内部错误，请稍后再试";
    AppleSignInDisabled = "apple_sign_in_disabled", SERVICE_UNAVAILABLE, "服务器尚未开启通过 Apple 登录";
    LlmNotConfigured = "llm_not_configured", SERVICE_UNAVAILABLE, "识别服务尚未配置：请管理员设置模型的 API_KEY 后再试";
    LlmFailed = "llm_failed", BAD_GATEWAY, "模型服务暂时出错，请稍后重试";
    LlmTimeout = "llm_timeout", GATEWAY_TIMEOUT, "模型服务响应超时，请稍后重试";
    UpstreamUnavailable = "upstream_unavailable", BAD_GATEWAY, "服务暂时不可用，请稍后再试";
    /// A streamed turn whose instance stopped before it finished (resumed elsewhere).
    TurnInterrupted = "turn_interrupted", SERVICE_UNAVAILABLE, "这次回复中断了，请重新发送";
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "数据库暂时无法访问，本次操作没有生效，请稍后再试";
    UpstreamError = "upstream_error", BAD_GATEWAY, "服务暂时出错，请稍后再试";
    UpstreamTimeout = "upstream_timeout", GATEWAY_TIMEOUT, "服务响应超时，请稍后再试";
    /// A service gave up on a request that ran past its deadline (a stalled database, say):
    /// whatever it was writing in a transaction was rolled back.
    DeadlineExceeded = "deadline_exceeded", GATEWAY_TIMEOUT, "处理超时，已停止；请稍后查看结果或重试";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{s}"
            );
            assert!(crate::error::is_chinese(code.zh()), "{s}");
        }
    }
}
